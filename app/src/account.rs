//! `/account`: sign up, log in, a note only a logged-in tab may read, and
//! log out, as a real app does them.
//!
//! - A password is hashed and checked with argon2id, off the async
//!   threads (`password`), against a [`UserStore`](users::UserStore).
//! - A login is an HttpOnly cookie. A handler cannot set one (it talks to
//!   the page through the stream), so it mints a one-time code and sends
//!   `Action::ExchangeCode`: the tab POSTs the code to `/auth/session`,
//!   whose answer sets the cookie, and reconnects (`routes`).
//! - Who a tab is logged in as is read from that cookie, in the request
//!   behind the tab's connection, on every call (`logins` is the app's
//!   `Authenticator`): a tab cannot name a user in its arguments.
//! - [`REVEAL`] is protected (`App::protect`): an anonymous tab is
//!   refused with a notice and the handler never runs.
//! - A logout revokes the login on the server, so every tab that carried
//!   it loses access at once, and the other sessions it reached are told
//!   and show it without a reload.

#[cfg(feature = "ssr")]
mod handlers;
#[cfg(feature = "ssr")]
pub mod logins;
#[cfg(feature = "ssr")]
mod password;
#[cfg(feature = "ssr")]
pub mod routes;
#[cfg(feature = "ssr")]
pub mod users;

use leptos::{either::Either, prelude::*};
use serde::{Deserialize, Serialize};
use stateside_leptos::{use_field, use_stateside};
use stateside_wire::{FieldErrors, HandlerId, State};

use crate::field::FormField;

#[derive(Clone, Default, Debug, PartialEq, State)]
#[state(name = "account")]
pub struct Account {
    /// The email this tab is logged in as, to show; empty when nobody.
    /// Only a copy for the page: who may do what is asked of the cookie.
    pub email: String,
    pub signup_errors: FieldErrors,
    pub login_errors: FieldErrors,
    /// A password is being hashed or checked.
    pub checking: bool,
    /// What the protected action showed, and how often it ran.
    pub note: String,
    pub reveals: u32,
}

/// Both forms' fields, by their `name`s.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Credentials {
    pub email: String,
    pub password: String,
}

pub const SIGN_UP: HandlerId<Credentials> = HandlerId::new("account/sign_up");
pub const LOG_IN: HandlerId<Credentials> = HandlerId::new("account/log_in");
/// The exchange of a login code is over (`true` if the cookie is set).
pub const LOGGED_IN: HandlerId<bool> = HandlerId::new("account/logged_in");
/// The page's `on_load` hook: shows who the tab's cookie logs in.
pub const OPEN: HandlerId<()> = HandlerId::new("account/open");
/// The protected action: shows a note only a logged-in tab may read.
pub const REVEAL: HandlerId<()> = HandlerId::new("account/reveal");
pub const LOG_OUT: HandlerId<()> = HandlerId::new("account/log_out");
/// Emitted into the other sessions a logout reached.
pub const SIGNED_OUT: HandlerId<()> = HandlerId::new("account/signed_out");

/// The users, the logins, and the way to tell sessions of a logout: what
/// the handlers and the server's routes share. Cheap to clone.
#[cfg(feature = "ssr")]
#[derive(Clone)]
pub struct Accounts {
    users: std::sync::Arc<dyn users::UserStore>,
    logins: std::sync::Arc<logins::Logins>,
    sign_outs: tokio::sync::mpsc::Sender<stateside::SessionToken>,
}

#[cfg(feature = "ssr")]
impl Accounts {
    /// Sessions waiting to be told of a logout, beyond which a logout
    /// waits for room.
    const SIGN_OUTS_WAITING: usize = 256;

    /// Users kept in memory; the [`SignOuts`](routes::SignOuts) to
    /// deliver once the engine runs.
    pub fn in_memory() -> (Self, routes::SignOuts) {
        Self::with_users(users::MemoryUsers::default())
    }

    pub fn with_users(users: impl users::UserStore) -> (Self, routes::SignOuts) {
        let (sign_outs, waiting) = tokio::sync::mpsc::channel(Self::SIGN_OUTS_WAITING);
        let accounts = Self {
            users: std::sync::Arc::new(users),
            logins: std::sync::Arc::default(),
            sign_outs,
        };
        (accounts, routes::SignOuts(waiting))
    }

    /// Registers the account page's handlers.
    pub fn register(&self, app: stateside::App) -> stateside::App {
        handlers::register(app, self)
    }
}

#[component]
pub fn AccountPage() -> impl IntoView {
    let email = use_field(|account: &Account| account.email.clone());
    let checking = use_field(|account: &Account| account.checking);
    let status = move || match (email.get(), checking.get()) {
        (_, true) => "Checking your password…".to_owned(),
        (email, _) if email.is_empty() => "You are not logged in.".to_owned(),
        (email, _) => format!("Logged in as {email}."),
    };
    view! {
        <section class="card">
            <h1>"Account"</h1>
            <p class="lead">
                "Passwords are checked with argon2 on the server; a login is an HttpOnly cookie \
                 that no script can read. Log out in one tab and every tab of this browser loses \
                 access at once."
            </p>
            <p role="status" class="live">{status}</p>
            {move || {
                if email.with(String::is_empty) {
                    Either::Left(view! { <LoginForms /> })
                } else {
                    Either::Right(view! { <LogOut /> })
                }
            }}
        </section>
        <PrivateNote />
    }
}

#[component]
fn LoginForms() -> impl IntoView {
    view! {
        <div class="row wrap">
            <CredentialsForm title="Sign up" handler=SIGN_UP form="signup" new=true
                errors=|account| &account.signup_errors />
            <CredentialsForm title="Log in" handler=LOG_IN form="login" new=false
                errors=|account| &account.login_errors />
        </div>
    }
}

/// An email and password form, sent to `handler`; `errors` are the
/// server's messages for its fields, and `new` says whether it picks a
/// password or gives one.
#[component]
fn CredentialsForm(
    title: &'static str,
    handler: HandlerId<Credentials>,
    form: &'static str,
    new: bool,
    errors: fn(&Account) -> &FieldErrors,
) -> impl IntoView {
    let stateside = use_stateside();
    let error = move |name: &'static str| {
        use_field(move |account: &Account| errors(account).get(name).map(str::to_owned))
    };
    let password = if new {
        "new-password"
    } else {
        "current-password"
    };
    view! {
        <form novalidate aria-label=title on:submit=move |ev| stateside.submit(handler, ev)>
            <h2>{title}</h2>
            <FormField form name="email" label="Email" kind="email" autocomplete="email"
                error=error("email") />
            <FormField form name="password" label="Password" kind="password"
                autocomplete=password error=error("password") />
            <button class="btn btn-primary" type="submit">{title}</button>
        </form>
    }
}

#[component]
fn LogOut() -> impl IntoView {
    let stateside = use_stateside();
    view! { <button class="btn" on:click=move |_| stateside.call(LOG_OUT, ())>"Log out"</button> }
}

/// The protected action, shown to everyone: an anonymous tab that tries it
/// is told it needs to log in.
#[component]
fn PrivateNote() -> impl IntoView {
    let stateside = use_stateside();
    let note = use_field(|account: &Account| account.note.clone());
    view! {
        <section class="card">
            <h2>"Private note"</h2>
            <p class="lead">"Only a logged-in tab may open it: the server refuses anyone else."</p>
            <button class="btn" on:click=move |_| stateside.call(REVEAL, ())>"Open my note"</button>
            <p class="live">{note}</p>
        </section>
    }
}
