//! What the server saw of the HTTP request behind a tab's connection: the
//! client's address, and the headers and cookies the app asked to keep
//! ([`App::keep_headers`](crate::App::keep_headers),
//! [`App::keep_cookies`](crate::App::keep_cookies)).
//!
//! A transport captures it when the tab connects (the WebSocket upgrade,
//! or each POST of the fallback) and hands it to the session, where
//! handlers read it with [`Cx::request`](crate::Cx::request). It never
//! travels in an event's arguments, so a tab cannot write it: the address
//! comes from the socket, or from `X-Forwarded-For` only when the peer is a
//! configured trusted proxy, and a cookie is what the browser sent. It is
//! held in memory only (a session restored from a store learns it again
//! when its tab reconnects), so no store ever keeps a cookie.

use std::net::IpAddr;

/// The request behind the tab's current connection.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RequestContext {
    client_ip: Option<IpAddr>,
    headers: Vec<(String, String)>,
    cookies: Vec<(String, String)>,
}

impl RequestContext {
    /// A context for a client at `client_ip`, with nothing kept yet.
    pub fn new(client_ip: Option<IpAddr>) -> Self {
        Self {
            client_ip,
            ..Self::default()
        }
    }

    /// Keeps a header (its name lowercase).
    pub fn with_header(mut self, name: &str, value: &str) -> Self {
        self.headers
            .push((name.to_ascii_lowercase(), value.to_owned()));
        self
    }

    /// Keeps a cookie.
    pub fn with_cookie(mut self, name: &str, value: &str) -> Self {
        self.cookies.push((name.to_owned(), value.to_owned()));
        self
    }

    /// The client's address, as the transport established it.
    pub fn client_ip(&self) -> Option<IpAddr> {
        self.client_ip
    }

    /// A kept header, by name in any case.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(kept, _)| kept.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }

    /// A kept cookie, by name.
    pub fn cookie(&self, name: &str) -> Option<&str> {
        self.cookies
            .iter()
            .find(|(kept, _)| kept == name)
            .map(|(_, value)| value.as_str())
    }
}
