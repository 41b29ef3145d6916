//! Takes the WebSocket upgrade at [`SOCKET_PATH`], with bounded buffers,
//! before the request reaches Leptos's route for the server function.
//!
//! Per connection, tungstenite holds a read buffer (reserved up front,
//! 128 KiB by default, here [`READ_BUFFER`]) and a write buffer (grown to
//! the largest frame written, which the cursor bounds to about
//! [`BATCH_BYTES`](crate::cursor::BATCH_BYTES); written through at once
//! here, since every frame is flushed anyway). A message up is limited to
//! the engine's `max_payload`, as a POST body is, instead of tungstenite's
//! 64 MiB.

use std::sync::Arc;

use axum::{
    extract::{FromRequest, Request, State, ws::WebSocketUpgrade},
    middleware::Next,
    response::{IntoResponse, Response},
};
use stateside::Engine;
use stateside_wire::SOCKET_PATH;

use super::connection;
use crate::{
    admission::StreamPermit,
    request::{ClientAddress, capture},
};

/// What tungstenite reserves to read into. A tab's messages are small
/// batches of events; a larger one is read in several steps, not refused.
const READ_BUFFER: usize = 4 * 1024;

/// An axum middleware (with the engine as state): serves a request for
/// [`SOCKET_PATH`] as the tab's socket, and passes any other on.
pub(crate) async fn socket(State(engine): State<Engine>, request: Request, next: Next) -> Response {
    if request.uri().path() != SOCKET_PATH {
        return next.run(request).await;
    }
    // Counted against the client's limits while the socket lives.
    let permit = request.extensions().get::<Arc<StreamPermit>>().cloned();
    let address = request.extensions().get::<ClientAddress>().copied();
    let context = capture(engine.app(), address, request.headers());
    let upgrade = match WebSocketUpgrade::from_request(request, &()).await {
        Ok(upgrade) => upgrade,
        Err(rejection) => return rejection.into_response(),
    };
    let limit = engine.config().max_payload;
    upgrade
        .read_buffer_size(READ_BUFFER)
        .write_buffer_size(0)
        .max_message_size(limit)
        .max_frame_size(limit)
        .on_upgrade(move |socket| async move {
            connection::run(socket, engine, context).await;
            drop(permit);
        })
}
