//! Server side: sign up, log in, the protected note, log out.
//!
//! A password is checked on tokio's blocking pool (see `password`), while
//! the handler holds its session's lock: the tab's next click should see
//! the outcome, and other sessions are not held up. It is never handed to
//! a background task, whose arguments the session's record keeps while it
//! runs: a password must not reach a store.

use stateside::{Action, App, Cx, LoginRequired, SessionToken};
use stateside_wire::{FieldErrors, ToastLevel};
use tokio::sync::mpsc;

use super::{
    Account, Credentials, LOG_IN, LOG_OUT, LOGGED_IN, OPEN, REVEAL, SIGN_UP, SIGNED_OUT,
    logins::LOGIN_COOKIE, password, routes::SESSION_PATH, users::normalise_email,
};
use crate::account::Accounts;

/// The shortest password taken, in characters.
pub const MIN_PASSWORD: usize = 8;
/// The longest password taken, in bytes: argon2 takes any length, but
/// nothing is gained past this, and a megabyte-long one would be work.
pub const MAX_PASSWORD: usize = 256;

pub fn register(app: App, accounts: &Accounts) -> App {
    app.keep_cookies(&[LOGIN_COOKIE])
        .authenticate(accounts.logins.clone())
        .on(SIGN_UP, with(accounts, sign_up))
        .on(LOG_IN, with(accounts, log_in))
        .on(LOGGED_IN, with(accounts, logged_in))
        .internal(OPEN, with(accounts, open))
        .on_load("/account", OPEN)
        .on(REVEAL, with(accounts, reveal))
        .protect(REVEAL)
        .on(LOG_OUT, with(accounts, log_out))
        .internal(SIGNED_OUT, signed_out)
}

/// `handler` with the accounts it works on, as the engine calls handlers.
fn with<A, Fut>(
    accounts: &Accounts,
    handler: fn(Cx<Account>, A, Accounts) -> Fut,
) -> impl Fn(Cx<Account>, A) -> Fut + Send + Sync + 'static
where
    A: 'static,
    Fut: 'static,
{
    let accounts = accounts.clone();
    move |account, args| handler(account, args, accounts.clone())
}

/// Checks the form's shape; the errors go under its fields.
fn check(errors: &mut FieldErrors, email: &str, password: &str, new: bool) {
    let (user, domain) = email.split_once('@').unwrap_or_default();
    if user.is_empty() || !domain.contains('.') {
        errors.add(
            "email",
            "An email address has an @ and a domain, like ada@example.com",
        );
    }
    if new && password.chars().count() < MIN_PASSWORD {
        errors.add(
            "password",
            format!("A password has at least {MIN_PASSWORD} characters"),
        );
    } else if password.is_empty() || password.len() > MAX_PASSWORD {
        errors.add(
            "password",
            format!("Enter your password (up to {MAX_PASSWORD} bytes)"),
        );
    }
}

/// Which of the page's two forms a submission came from.
#[derive(Clone, Copy, PartialEq)]
enum Form {
    SignUp,
    LogIn,
}

impl Form {
    fn errors(self, account: &mut Account) -> &mut FieldErrors {
        match self {
            Self::SignUp => &mut account.signup_errors,
            Self::LogIn => &mut account.login_errors,
        }
    }
}

/// The submitted email, normalised, if the form's fields are well-formed
/// (else their errors are on the page); the page says a password is being
/// checked meanwhile.
fn well_formed(account: &mut Cx<Account>, form: Form, credentials: &Credentials) -> Option<String> {
    let email = normalise_email(&credentials.email);
    let errors = form.errors(account);
    errors.clear();
    check(errors, &email, &credentials.password, form == Form::SignUp);
    if !errors.is_empty() {
        return None;
    }
    account.checking = true;
    account.flush();
    Some(email)
}

async fn sign_up(
    mut account: Cx<Account>,
    credentials: Credentials,
    accounts: Accounts,
) -> anyhow::Result<()> {
    let Some(email) = well_formed(&mut account, Form::SignUp, &credentials) else {
        return Ok(());
    };
    let hash = password::hash(credentials.password).await?;
    account.checking = false;
    match accounts.users.create(&email, hash) {
        Ok(user) => send_code(&mut account, &accounts, user.id),
        Err(taken) => {
            account
                .signup_errors
                .add("email", format!("{taken}: log in instead"));
            Ok(())
        }
    }
}

async fn log_in(
    mut account: Cx<Account>,
    credentials: Credentials,
    accounts: Accounts,
) -> anyhow::Result<()> {
    let Some(email) = well_formed(&mut account, Form::LogIn, &credentials) else {
        return Ok(());
    };
    let user = accounts.users.by_email(&email);
    let hash = user.as_ref().map(|user| user.password_hash.clone());
    let matches = password::verify(credentials.password, hash).await?;
    account.checking = false;
    match user.filter(|_| matches) {
        Some(user) => send_code(&mut account, &accounts, user.id),
        None => {
            // One message for both cases: which emails have an account is
            // nobody's business.
            account
                .login_errors
                .add("password", "Wrong email or password");
            Ok(())
        }
    }
}

/// Has the tab redeem a one-time login code at [`SESSION_PATH`], whose
/// answer sets the HttpOnly cookie; [`LOGGED_IN`] runs once it has.
fn send_code(
    account: &mut Cx<Account>,
    accounts: &Accounts,
    user: stateside::UserId,
) -> anyhow::Result<()> {
    let code = accounts.logins.mint_code(user, account.token());
    account.action(Action::exchange_code(SESSION_PATH, code, LOGGED_IN))?;
    Ok(())
}

/// The tab has the cookie (or failed to get it). What it says is only a
/// hint: who is logged in comes from the cookie the server set.
async fn logged_in(mut account: Cx<Account>, done: bool, accounts: Accounts) -> anyhow::Result<()> {
    if !done {
        account
            .login_errors
            .add("password", "Logging in did not finish: try again");
        return Ok(());
    }
    let email = show_login(&mut account, &accounts).ok_or(LoginRequired)?;
    account.action(Action::toast_for(
        ToastLevel::Success,
        format!("Logged in as {email}"),
        None,
    ))?;
    Ok(())
}

/// The page's `on_load` hook: shows who the tab's cookie logs in, if
/// anyone (another tab of the browser may have logged in).
async fn open(mut account: Cx<Account>, (): (), accounts: Accounts) -> anyhow::Result<()> {
    if show_login(&mut account, &accounts).is_none() {
        forget_login(&mut account);
    }
    Ok(())
}

/// Shows the login the tab's request carries, and notes this session as
/// one it reaches; its email, if there is one.
fn show_login(account: &mut Cx<Account>, accounts: &Accounts) -> Option<String> {
    let login = account.request()?.cookie(LOGIN_COOKIE)?.to_owned();
    let user = accounts.logins.attach(&login, account.token())?;
    let email = accounts.users.by_id(&user)?.email;
    if account.email != email {
        account.email = email.clone();
    }
    account.signup_errors.clear();
    account.login_errors.clear();
    Some(email)
}

fn forget_login(account: &mut Cx<Account>) {
    if !account.email.is_empty() {
        account.email.clear();
    }
    if !account.note.is_empty() {
        account.note.clear();
    }
}

/// The protected action (`App::protect`): only a logged-in tab gets here.
async fn reveal(mut account: Cx<Account>, (): (), accounts: Accounts) -> anyhow::Result<()> {
    let user = account.user()?;
    let email = accounts
        .users
        .by_id(&user)
        .map(|user| user.email)
        .ok_or(LoginRequired)?;
    account.reveals += 1;
    account.note = format!(
        "A note only {email} can read (opened {} times).",
        account.reveals
    );
    Ok(())
}

/// Ends this browser's login on the server, at once, and tells the other
/// sessions it reached.
async fn log_out(mut account: Cx<Account>, (): (), accounts: Accounts) -> anyhow::Result<()> {
    let token = account.token();
    let login = account
        .request()
        .and_then(|request| request.cookie(LOGIN_COOKIE).map(str::to_owned));
    if let Some(login) = login {
        let others = accounts.logins.revoke(&login);
        tell(
            &accounts.sign_outs,
            others.into_iter().filter(|&other| other != token),
        )
        .await;
    }
    forget_login(&mut account);
    account.action(Action::toast("Logged out"))?;
    Ok(())
}

async fn tell(
    sign_outs: &mpsc::Sender<SessionToken>,
    sessions: impl Iterator<Item = SessionToken>,
) {
    for session in sessions {
        // Closed only when the server is stopping.
        let _ = sign_outs.send(session).await;
    }
}

/// Another tab of the browser logged out: this one shows it at once.
async fn signed_out(mut account: Cx<Account>, (): ()) -> anyhow::Result<()> {
    forget_login(&mut account);
    account.action(Action::toast_for(
        ToastLevel::Warning,
        "You were logged out in another tab",
        None,
    ))?;
    Ok(())
}
