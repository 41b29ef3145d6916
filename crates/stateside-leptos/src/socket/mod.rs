//! The primary transport: one WebSocket per tab, opened through a Leptos
//! websocket server function, carrying events up and the session's stream
//! down ([`Upward`] and [`Downward`] in the wire crate's protocol).
//!
//! One connection per tab, rather than a stream plus a request per batch,
//! because a browser opens at most six HTTP/1.1 connections per host: with
//! SSE and POST, six tabs take them all and every tab freezes.
//!
//! # Who serves it
//!
//! The browser opens the socket by calling [`socket`], Leptos's client
//! side. On the server the upgrade is taken one step earlier, by a
//! middleware that [`StatesideRouter`](crate::server::StatesideRouter) puts
//! in front of the function's route (`upgrade`), and the connection is run
//! by `connection`, speaking the same bytes (Leptos's framing:
//! [`socket_frame`](stateside_wire::socket_frame)). Leptos's own glue for
//! websocket server functions is bypassed because, in server_fn 0.8:
//!
//! - it takes the upgrade with tungstenite's default configuration: a
//!   128 KiB read buffer reserved per connection and a 64 MiB message
//!   limit, with no way to change either;
//! - it relays messages through two channels of 2048 messages each, with
//!   `try_send` upward: a tab that sends faster than its handler reads
//!   loses messages without anyone knowing, and a tab that reads slowly
//!   makes the server queue up to 2048 frames rather than resync it.
//!
//! Served here, the buffers are small and the limits are the engine's
//! `max_payload`, a slow reader pushes back on its own cursor (which then
//! resyncs it from the ring, as on SSE), and nothing is dropped. The
//! function's own body only answers when the middleware is missing.

#[cfg(feature = "ssr")]
mod connection;
#[cfg(feature = "ssr")]
pub(crate) mod upgrade;

use leptos::{
    prelude::*,
    server_fn::{BoxedStream, Websocket, codec::JsonEncoding},
};
use stateside_wire::{Downward, ProtocolError, Upward};

/// The tab's socket. Served at [`SOCKET_PATH`](stateside_wire::SOCKET_PATH).
#[server(
    protocol = Websocket<JsonEncoding, JsonEncoding>,
    prefix = "/stateside",
    endpoint = "socket"
)]
pub async fn socket(
    /// What the tab sends: [`Upward::Hello`] first, then events.
    upward: BoxedStream<Upward, ProtocolError>,
) -> Result<BoxedStream<Vec<Downward>, ProtocolError>, ProtocolError> {
    drop(upward);
    Err(ProtocolError::Server(
        "the socket is served by `StatesideRouter::stateside`, which this server does not use"
            .to_owned(),
    ))
}

/// The path the macro generates is the one the wire crate names for every
/// other client.
#[cfg(test)]
mod tests {
    use leptos::server_fn::ServerFn;
    use stateside_wire::SOCKET_PATH;

    #[test]
    fn the_server_function_serves_the_protocol() {
        assert_eq!(super::Socket::PATH, SOCKET_PATH);
    }
}
