//! Which client actions a handler may send, checked when it sends one, so a
//! mistake (or a URL taken from user input) fails in the handler, where its
//! author sees it, instead of reaching the page.
//!
//! - `Redirect` and `Download` take only `http(s)` and relative URLs
//!   ([`is_web_url`], which the browser checks again before acting): a
//!   `javascript:` URL would run code in the page.
//! - `ExchangeCode` posts only to a path of this app ([`is_app_path`]):
//!   its body carries the tab's session token.
//! - `RunScript` is off unless the app turns it on with
//!   [`App::run_scripts`](crate::App::run_scripts); only then does the
//!   page's Content-Security-Policy allow `eval`, which it needs.

use stateside_wire::{Action, is_app_path, is_web_url};

/// Why a handler may not send a client action.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ActionRefused {
    /// A `Redirect` or `Download` to a URL that is neither `http(s)` nor
    /// relative.
    #[error("{action} to `{url}` refused: only http(s) and relative URLs are allowed")]
    Url {
        /// "redirect" or "download".
        action: &'static str,
        /// The URL refused.
        url: String,
    },
    /// An `ExchangeCode` to a URL that is not a path of this app.
    #[error(
        "a code exchange with `{0}` refused: only a path of this app (`/auth/session`) may take one"
    )]
    ExchangeUrl(String),
    /// `RunScript` in an app that did not turn it on.
    #[error("RunScript is off in this app; turn it on with `App::run_scripts()`")]
    ScriptsOff,
}

/// `Ok` if a handler of an app that does (or does not) run scripts may
/// send `action`.
pub(crate) fn vet(action: &Action, scripts: bool) -> Result<(), ActionRefused> {
    let refused = |action, url: &str| ActionRefused::Url {
        action,
        url: url.to_owned(),
    };
    match action {
        Action::Redirect { to } if !is_web_url(to) => Err(refused("redirect", to)),
        Action::Download { url, .. } if !is_web_url(url) => Err(refused("download", url)),
        Action::ExchangeCode { url, .. } if !is_app_path(url) => {
            Err(ActionRefused::ExchangeUrl(url.clone()))
        }
        Action::RunScript { .. } if !scripts => Err(ActionRefused::ScriptsOff),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_and_scripts_are_vetted() {
        let redirect = |to: &str| Action::Redirect { to: to.to_owned() };
        assert_eq!(vet(&redirect("/next"), false), Ok(()));
        assert_eq!(vet(&redirect("https://example.com"), false), Ok(()));
        assert!(matches!(
            vet(&redirect("javascript:alert(1)"), true),
            Err(ActionRefused::Url {
                action: "redirect",
                ..
            })
        ));
        let download = Action::Download {
            url: "data:text/html,x".to_owned(),
            filename: "x.html".to_owned(),
        };
        assert!(vet(&download, true).is_err());
        let exchange = |url: &str| Action::ExchangeCode {
            url: url.to_owned(),
            code: "c".to_owned(),
            then: None,
        };
        assert_eq!(vet(&exchange("/auth/session"), false), Ok(()));
        assert!(matches!(
            vet(&exchange("https://evil.example/steal"), true),
            Err(ActionRefused::ExchangeUrl(_))
        ));
        let script = Action::run_script("1");
        assert_eq!(vet(&script, false), Err(ActionRefused::ScriptsOff));
        assert_eq!(vet(&script, true), Ok(()));
    }
}
