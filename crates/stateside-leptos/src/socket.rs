//! The primary transport: one WebSocket per tab, opened through a Leptos
//! websocket server function, carrying events up and the session's stream
//! down ([`Upward`] and [`Downward`] in the wire crate's protocol).
//!
//! One connection per tab, rather than a stream plus a request per batch,
//! because a browser opens at most six HTTP/1.1 connections per host: with
//! SSE and POST, six tabs take them all and every tab freezes.

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
        "the socket is not served yet".to_owned(),
    ))
}
