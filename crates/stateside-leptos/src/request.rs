//! The request context each transport hands its session
//! ([`stateside::RequestContext`]): the client's address as admission
//! established it (the peer, or the nearest hop a trusted proxy saw), and
//! the headers and cookies the app keeps. Captured from the HTTP request
//! itself, the WebSocket upgrade or a fallback POST, never from what the
//! tab sends in an event.

use std::net::IpAddr;

use axum::http::{HeaderMap, header::COOKIE};
use stateside::{App, RequestContext};

/// The client's address, put on the request by `admission::admit`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct ClientAddress(pub(crate) IpAddr);

/// What `app` keeps of a request from `address` with `headers`.
pub(crate) fn capture(
    app: &App,
    address: Option<ClientAddress>,
    headers: &HeaderMap,
) -> RequestContext {
    let mut context = RequestContext::new(address.map(|ClientAddress(ip)| ip));
    for name in app.kept_headers() {
        if let Some(value) = headers.get(*name).and_then(|value| value.to_str().ok()) {
            context = context.with_header(name, value);
        }
    }
    let cookies = headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='));
    for (name, value) in cookies {
        if app.kept_cookies().contains(&name) {
            context = context.with_cookie(name, value.trim_matches('"'));
        }
    }
    context
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_what_the_app_keeps_is_captured() {
        let app = App::new().keep_cookies(&["login"]);
        let mut headers = HeaderMap::new();
        headers.insert("user-agent", "Firefox".parse().unwrap());
        headers.insert("x-secret", "no".parse().unwrap());
        headers.insert(
            COOKIE,
            "theme=dark; login=\"abc\"; other=1".parse().unwrap(),
        );
        let ip: IpAddr = "192.0.2.7".parse().unwrap();
        let context = capture(&app, Some(ClientAddress(ip)), &headers);
        assert_eq!(context.client_ip(), Some(ip));
        assert_eq!(context.header("User-Agent"), Some("Firefox"));
        assert_eq!(context.header("x-secret"), None);
        assert_eq!(context.cookie("login"), Some("abc"));
        assert_eq!(context.cookie("theme"), None);
    }
}
