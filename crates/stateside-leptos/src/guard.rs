//! The protocol's front door: refuses cross-origin requests to Stateside's
//! endpoints before they reach a session.
//!
//! A session token is a bearer credential, so the danger is another site's
//! page making the user's browser call our endpoints. Browsers always send
//! `Origin` on cross-origin fetches and `EventSource`s; a request whose
//! `Origin` does not name this host is refused. Requests without `Origin`
//! (same-origin navigation, curl, the load generator) carry no ambient
//! credential here and pass.

use axum::{
    extract::Request,
    http::{HeaderMap, StatusCode, header},
    middleware::Next,
    response::{IntoResponse, Response},
};
use stateside_wire::PROTOCOL_PREFIX;

/// An axum middleware (`axum::middleware::from_fn(guard::same_origin)`).
pub async fn same_origin(request: Request, next: Next) -> Response {
    if request.uri().path().starts_with(PROTOCOL_PREFIX) && !is_same_origin(request.headers()) {
        return (
            StatusCode::FORBIDDEN,
            "cross-origin request refused: Stateside endpoints answer their own pages only",
        )
            .into_response();
    }
    next.run(request).await
}

fn is_same_origin(headers: &HeaderMap) -> bool {
    let Some(origin) = headers.get(header::ORIGIN) else {
        return true;
    };
    let host = headers
        .get(header::HOST)
        .and_then(|host| host.to_str().ok());
    let origin_host = origin
        .to_str()
        .ok()
        .and_then(|origin| origin.split_once("://"))
        .map(|(_, rest)| rest);
    matches!((origin_host, host), (Some(origin), Some(host)) if origin == host)
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

    #[test]
    fn only_our_own_origin_or_none_passes() {
        assert!(is_same_origin(&headers(None, "127.0.0.1:3000")));
        assert!(is_same_origin(&headers(
            Some("http://127.0.0.1:3000"),
            "127.0.0.1:3000"
        )));
        assert!(!is_same_origin(&headers(
            Some("http://evil.example"),
            "127.0.0.1:3000"
        )));
        assert!(!is_same_origin(&headers(
            Some("http://127.0.0.1:3001"),
            "127.0.0.1:3000"
        )));
        assert!(!is_same_origin(&headers(Some("null"), "127.0.0.1:3000")));
    }
}
