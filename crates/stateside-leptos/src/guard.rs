//! The protocol's front door: refuses cross-origin requests to Stateside's
//! endpoints (the socket's upgrade included) before they reach a session.
//!
//! A session token is a bearer credential, so the danger is another site's
//! page making the user's browser call our endpoints. Browsers always send
//! `Origin` on cross-origin fetches, `EventSource`s and WebSocket upgrades;
//! a request whose `Origin` is not one of ours is refused. Requests without
//! `Origin` (same-origin navigation, curl, the load generator) carry no
//! ambient credential here and pass.
//!
//! Which origins are ours: the engine's
//! [`public_origins`](stateside::Config::public_origins) when it lists any,
//! compared whole, scheme included (`http://app.example` is not
//! `https://app.example`). That is what works behind a proxy, which may
//! rewrite `Host` (nginx's default) and terminates TLS, so the request this
//! server sees says neither. With none listed, the server takes itself to
//! be reached directly: its origin is `http://` and the request's `Host`.

use axum::{
    extract::{Request, State},
    http::{HeaderMap, StatusCode, header},
    middleware::Next,
    response::{IntoResponse, Response},
};
use stateside::Engine;
use stateside_wire::PROTOCOL_PREFIX;

/// An axum middleware, with the engine as state
/// (`axum::middleware::from_fn_with_state(engine, guard::same_origin)`).
pub async fn same_origin(State(engine): State<Engine>, request: Request, next: Next) -> Response {
    if request.uri().path().starts_with(PROTOCOL_PREFIX)
        && let Err(origin) = check(request.headers(), &engine.config().public_origins)
    {
        tracing::debug!(%origin, path = request.uri().path(), "cross-origin request refused");
        let hint = if engine.config().public_origins.is_empty() {
            "; behind a proxy, list the public origin with --public-origin"
        } else {
            ""
        };
        return (
            StatusCode::FORBIDDEN,
            format!(
                "cross-origin request refused: Stateside endpoints answer their own pages \
                 only, and `{origin}` is not one of them{hint}"
            ),
        )
            .into_response();
    }
    next.run(request).await
}

/// `Ok` if the request may pass; else the `Origin` it named.
fn check(headers: &HeaderMap, public: &[String]) -> Result<(), String> {
    let Some(origin) = headers.get(header::ORIGIN) else {
        return Ok(());
    };
    let origin = String::from_utf8_lossy(origin.as_bytes()).to_ascii_lowercase();
    let ours = if public.is_empty() {
        headers
            .get(header::HOST)
            .and_then(|host| host.to_str().ok())
            .is_some_and(|host| origin == format!("http://{}", host.to_ascii_lowercase()))
    } else {
        public
            .iter()
            .any(|listed| listed.trim_end_matches('/').eq_ignore_ascii_case(&origin))
    };
    if ours { Ok(()) } else { Err(origin) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(origin: Option<&str>, host: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(header::HOST, host.parse().unwrap());
        if let Some(origin) = origin {
            headers.insert(header::ORIGIN, origin.parse().unwrap());
        }
        headers
    }

    fn passes(origin: Option<&str>, host: &str, public: &[&str]) -> bool {
        let public: Vec<String> = public.iter().map(|origin| origin.to_string()).collect();
        check(&headers(origin, host), &public).is_ok()
    }

    #[test]
    fn reached_directly_only_our_own_http_origin_or_none_passes() {
        let host = "127.0.0.1:3000";
        assert!(passes(None, host, &[]));
        assert!(passes(Some("http://127.0.0.1:3000"), host, &[]));
        assert!(!passes(Some("https://127.0.0.1:3000"), host, &[]), "scheme");
        assert!(!passes(Some("http://evil.example"), host, &[]));
        assert!(!passes(Some("http://127.0.0.1:3001"), host, &[]));
        assert!(!passes(Some("null"), host, &[]));
    }

    #[test]
    fn behind_a_proxy_the_listed_origins_decide_whatever_the_host() {
        let public = ["https://app.example", "https://www.app.example/"];
        let host = "127.0.0.1:3000"; // rewritten by the proxy
        assert!(passes(Some("https://app.example"), host, &public));
        assert!(passes(Some("https://WWW.app.example"), host, &public));
        assert!(!passes(Some("http://app.example"), host, &public), "scheme");
        assert!(!passes(Some("https://app.example:8443"), host, &public));
        assert!(!passes(Some("http://127.0.0.1:3000"), host, &public));
        assert!(passes(None, host, &public));
    }
}
