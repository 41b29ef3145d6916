//! Handing a one-time code to a route of the app, for what only an HTTP
//! answer can do: set a cookie that no script may read (`HttpOnly`), as a
//! login's is.
//!
//! A handler runs on the server but talks to the page through the stream,
//! and the stream cannot set cookies. So the handler mints a short-lived
//! code, sends [`Action::ExchangeCode`](crate::Action::ExchangeCode), and
//! the page POSTs a [`CodeExchange`] to the app's route, whose answer sets
//! the cookie. The body carries the tab's session token too, so the route
//! can check that the code was minted for this tab: a code copied into
//! another browser (or a page on another site posting one) gets nothing.
//! The tab then reconnects, so the session's next request context carries
//! the cookie.

use serde::{Deserialize, Serialize};

/// The body of the POST an [`Action::ExchangeCode`](crate::Action::ExchangeCode)
/// makes, as JSON.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CodeExchange {
    /// The tab's session token.
    pub token: String,
    /// The code the handler minted.
    pub code: String,
}

/// Whether `url` is a path of this app (`/auth/session`): an exchange
/// carries the tab's session token, which must never leave for another
/// origin. Not `//host` nor `/\host`, which browsers read as another host,
/// and no control characters or spaces, which they strip.
pub fn is_app_path(url: &str) -> bool {
    let mut chars = url.chars();
    chars.next() == Some('/')
        && !matches!(chars.next(), Some('/' | '\\'))
        && !url.chars().any(|c| c <= ' ' || c == '\u{7f}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_paths_of_this_app_take_a_code() {
        assert!(is_app_path("/auth/session"));
        assert!(is_app_path("/"));
        for other in [
            "//evil.example/x",
            "/\\evil.example/x",
            "https://evil.example/",
            "auth/session",
            "",
            "/a\tb",
            " /auth",
        ] {
            assert!(!is_app_path(other), "{other:?}");
        }
    }
}
