//! The account's HTTP side, without the framework: the server's routes
//! hand their requests here.
//!
//! - `POST /auth/session` ([`SESSION_PATH`]) redeems a login code for the
//!   login cookie ([`redeem`]). Only an HTTP answer can set a cookie that no
//!   script may read (`HttpOnly`), which is what keeps a login from an
//!   injected script; `SameSite=Lax` keeps it off other sites' POSTs, and
//!   `Secure` off plain HTTP when the app is served over HTTPS.
//! - [`SignOuts::deliver`] runs for the server's life and tells each
//!   session a logout reached (see `handlers::log_out`).

use stateside::{EmitError, Engine, SessionToken};
use stateside_wire::CodeExchange;
use tokio::sync::mpsc;

use super::{
    Accounts, SIGNED_OUT,
    logins::{LOGIN_COOKIE, LOGIN_TTL},
};

/// Where a tab redeems its login code.
pub const SESSION_PATH: &str = "/auth/session";

/// What to answer: a status, a line of text, and the cookie to set.
#[derive(Debug, PartialEq)]
pub struct Reply {
    pub status: u16,
    pub body: String,
    /// A `Set-Cookie` header's value.
    pub set_cookie: Option<String>,
}

impl Reply {
    fn new(status: u16, body: &str) -> Self {
        Self {
            status,
            body: format!("{body}\n"),
            set_cookie: None,
        }
    }
}

/// Redeems the [`CodeExchange`] in `body`: 200 with the login cookie (its
/// `Secure` flag if `secure`); 400 if the body is not one; 403 for a code
/// that is unknown, used, expired, or minted for another tab.
pub fn redeem(accounts: &Accounts, body: &[u8], secure: bool) -> Reply {
    let Ok(CodeExchange { token, code }) = serde_json::from_slice(body) else {
        return Reply::new(400, "the body is {\"token\": …, \"code\": …} as JSON");
    };
    let Ok(token) = token.parse::<SessionToken>() else {
        return Reply::new(400, "that is not a session token");
    };
    match accounts.logins.redeem(&code, token) {
        Ok(login) => Reply {
            set_cookie: Some(login_cookie(&login, secure)),
            ..Reply::new(200, "logged in")
        },
        Err(refused) => Reply::new(403, &refused.to_string()),
    }
}

/// Whether the login cookie may be `Secure`: when browsers reach the app
/// only over HTTPS (every one of its `public_origins` is `https`). Over
/// plain HTTP a `Secure` cookie would never come back.
pub fn secure_cookies(public_origins: &[String]) -> bool {
    !public_origins.is_empty()
        && public_origins
            .iter()
            .all(|origin| origin.starts_with("https://"))
}

/// The cookie's header, written by hand: its value is hex and its
/// attributes are fixed, so a cookie crate would add nothing.
fn login_cookie(login: &str, secure: bool) -> String {
    let secure = if secure { "; Secure" } else { "" };
    format!(
        "{LOGIN_COOKIE}={login}; Path=/; Max-Age={}; HttpOnly; SameSite=Lax{secure}",
        LOGIN_TTL.as_secs()
    )
}

/// The sessions logouts reached, on their way to be told.
pub struct SignOuts(pub(super) mpsc::Receiver<SessionToken>);

impl SignOuts {
    /// Runs [`SIGNED_OUT`] in each session a logout reached, for as long
    /// as the server runs. A session that is gone needs no telling.
    pub async fn deliver(mut self, engine: Engine) {
        while let Some(session) = self.0.recv().await {
            match engine.emit(&session, SIGNED_OUT, &()).await {
                Ok(()) | Err(EmitError::NoSession) => {}
                Err(error) => leptos::logging::error!("telling a session of a logout: {error}"),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use stateside::UserId;

    use super::*;

    fn exchange(token: SessionToken, code: &str) -> Vec<u8> {
        serde_json::to_vec(&CodeExchange {
            token: token.to_string(),
            code: code.to_owned(),
        })
        .unwrap()
    }

    #[test]
    fn a_redeemed_code_sets_an_http_only_lax_cookie() {
        let (accounts, _sign_outs) = Accounts::in_memory();
        let tab = SessionToken::random();
        let code = accounts.logins.mint_code(UserId::new("u1"), tab);
        let reply = redeem(&accounts, &exchange(tab, &code), false);
        assert_eq!(reply.status, 200);
        let cookie = reply.set_cookie.unwrap();
        assert!(cookie.starts_with(&format!("{LOGIN_COOKIE}=")));
        assert!(cookie.contains("; HttpOnly") && cookie.contains("; SameSite=Lax"));
        assert!(!cookie.contains("Secure"));
        let code = accounts.logins.mint_code(UserId::new("u1"), tab);
        let reply = redeem(&accounts, &exchange(tab, &code), true);
        assert!(reply.set_cookie.unwrap().ends_with("; Secure"));
    }

    #[test]
    fn cookies_are_secure_only_when_every_origin_is_https() {
        let origins = |list: &[&str]| list.iter().map(|o| o.to_string()).collect::<Vec<_>>();
        assert!(secure_cookies(&origins(&["https://app.example.com"])));
        assert!(
            !secure_cookies(&origins(&[])),
            "the server's own http origin"
        );
        assert!(!secure_cookies(&origins(&[
            "https://app.example.com",
            "http://intranet.example"
        ])));
    }

    #[test]
    fn a_bad_body_or_code_sets_nothing() {
        let (accounts, _sign_outs) = Accounts::in_memory();
        let tab = SessionToken::random();
        let bad = redeem(&accounts, b"code=1", false);
        assert_eq!((bad.status, bad.set_cookie), (400, None));
        let forged = redeem(&accounts, &exchange(tab, "0123456789abcdef"), false);
        assert_eq!((forged.status, forged.set_cookie), (403, None));
    }
}
