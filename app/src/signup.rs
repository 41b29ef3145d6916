//! A sign-up form, shown on `/actions`: the form's fields become the
//! handler's typed arguments (`Stateside::submit`), the handler checks them,
//! and its `FieldErrors` come back beside each field. The browser checks
//! nothing itself (`novalidate`), so every message is the server's.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};
use stateside_leptos::{use_field, use_stateside};
use stateside_wire::{FieldErrors, HandlerId, State};

use crate::field::FormField;

#[derive(Clone, Default, Debug, PartialEq, State)]
#[state(name = "signup")]
pub struct SignUpForm {
    pub errors: FieldErrors,
    /// Who signed up last, once someone did.
    pub welcome: String,
}

/// The form's fields, by their `name`s.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SignUp {
    pub name: String,
    pub email: String,
    pub age: u32,
    /// A checkbox: absent when unchecked.
    #[serde(default)]
    pub newsletter: bool,
}

pub const SIGN_UP: HandlerId<SignUp> = HandlerId::new("signup/submit");

#[cfg(feature = "ssr")]
pub mod handlers {
    //! Server side: every check, in one place.

    use stateside::{Action, App, Cx};
    use stateside_wire::ToastLevel;

    use super::*;

    /// The longest name taken, in characters.
    const MAX_NAME: usize = 40;

    async fn sign_up(mut form: Cx<SignUpForm>, sign_up: SignUp) -> anyhow::Result<()> {
        let SignUp {
            name,
            email,
            age,
            newsletter,
        } = sign_up;
        let (name, email) = (name.trim(), email.trim());
        form.errors.clear();
        if name.is_empty() || name.chars().count() > MAX_NAME {
            form.errors.add(
                "name",
                format!("Enter your name, up to {MAX_NAME} characters"),
            );
        }
        let (user, domain) = email.split_once('@').unwrap_or_default();
        if user.is_empty() || !domain.contains('.') {
            form.errors.add(
                "email",
                "An email address has an @ and a domain, like ada@example.com",
            );
        }
        if !(13..=120).contains(&age) {
            form.errors.add("age", "Age is 13 to 120");
        }
        if form.errors.is_empty() {
            let letters = if newsletter {
                ", with the newsletter"
            } else {
                ""
            };
            form.welcome = format!("Signed up {name} ({email}){letters}.");
            form.action(Action::toast_for(
                ToastLevel::Success,
                "Welcome aboard",
                None,
            ))?;
        }
        Ok(())
    }

    pub fn register(app: App) -> App {
        app.on(SIGN_UP, sign_up)
    }
}

/// A field of the form, with the server's message for it.
#[component]
fn Field(name: &'static str, label: &'static str, kind: &'static str) -> impl IntoView {
    let error = use_field(move |form: &SignUpForm| form.errors.get(name).map(str::to_owned));
    view! { <FormField form="signup" name label kind error /> }
}

#[component]
pub fn SignUpCard() -> impl IntoView {
    let stateside = use_stateside();
    let welcome = use_field(|form: &SignUpForm| form.welcome.clone());
    view! {
        <section class="card">
            <h2>"Sign up"</h2>
            <p class="lead">"The server checks every field and answers beside it."</p>
            <form novalidate on:submit=move |ev| stateside.submit(SIGN_UP, ev)>
                <Field name="name" label="Name" kind="text" />
                <Field name="email" label="Email" kind="email" />
                <Field name="age" label="Age" kind="number" />
                <label class="form-check">
                    <input type="checkbox" name="newsletter" value="true" />
                    " Send me the newsletter"
                </label>
                <button class="btn btn-primary" type="submit">"Sign up"</button>
            </form>
            <p role="status">{welcome}</p>
        </section>
    }
}
