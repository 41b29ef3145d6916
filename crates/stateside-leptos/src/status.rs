//! Typed HTTP answers on the fallback path: every refusal of a Stateside
//! endpoint is a [`ProtocolError`] as JSON, with the status its case calls
//! for ([`status`], the one place that says which).
//!
//! Leptos answers every server function error with a 500, and the body
//! limit answers 413 with plain text. The [`typed`] middleware puts both
//! right, so that a client (or a proxy, or a log) can tell a malformed
//! request from a lost session from a server that is going away without
//! reading messages.

use axum::{
    Json,
    body::{Body, Bytes, to_bytes},
    extract::{Request, State},
    http::{Method, StatusCode},
    middleware::Next,
    response::{IntoResponse, Response},
};
use leptos::server_fn::error::SERVER_FN_ERROR_HEADER;
use stateside::Engine;
use stateside_wire::{PROTOCOL_PREFIX, ProtocolError, UPLOAD_PATH};

/// The status each refusal is answered with.
pub fn status(error: &ProtocolError) -> StatusCode {
    match error {
        ProtocolError::MalformedToken | ProtocolError::Malformed(_) | ProtocolError::Call(_) => {
            StatusCode::BAD_REQUEST
        }
        ProtocolError::UnknownSession => StatusCode::NOT_FOUND,
        ProtocolError::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
        ProtocolError::TooManyStreams { .. }
        | ProtocolError::TooManyConnections { .. }
        | ProtocolError::TooManyTasks { .. }
        | ProtocolError::RateLimited => StatusCode::TOO_MANY_REQUESTS,
        ProtocolError::TooManySessions { .. }
        | ProtocolError::Overloaded
        | ProtocolError::ShuttingDown
        | ProtocolError::Store(_) => StatusCode::SERVICE_UNAVAILABLE,
        ProtocolError::Server(_) => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// A refusal: the error as JSON, with its [`status`].
pub(crate) fn refuse(error: &ProtocolError) -> Response {
    (status(error), Json(error)).into_response()
}

/// How much of a body over the limit is read and dropped before the 413,
/// as a multiple of the limit. A reply sent while the client is still
/// writing makes the connection close under it, and the client sees a reset
/// instead of the answer; reading a modest excess first lets the 413 arrive.
/// Past this, the connection is simply closed.
const DRAIN_FACTOR: usize = 16;

/// The whole body if it is at most `limit` bytes; `None` (after draining up
/// to [`DRAIN_FACTOR`] times the limit) if it is more.
async fn read_within(body: Body, limit: usize) -> Option<Bytes> {
    use futures::StreamExt;
    let mut chunks = body.into_data_stream();
    let mut kept = Vec::new();
    let mut seen = 0usize;
    while let Some(chunk) = chunks.next().await {
        let chunk = chunk.ok()?;
        seen += chunk.len();
        if seen <= limit {
            kept.extend_from_slice(&chunk);
        } else if seen > limit.saturating_mul(DRAIN_FACTOR) {
            return None;
        }
    }
    (seen <= limit).then(|| Bytes::from(kept))
}

/// An axum middleware (with the engine as state) for every path under
/// [`PROTOCOL_PREFIX`]: refuses a body over the engine's `max_payload`
/// (uploads aside)
/// with [`ProtocolError::TooLarge`], and gives a server function's error
/// the status of its case.
pub async fn typed(State(engine): State<Engine>, request: Request, next: Next) -> Response {
    if !request.uri().path().starts_with(PROTOCOL_PREFIX) {
        return next.run(request).await;
    }
    // Uploads stream through with limits of their own (`receive`).
    let request =
        if request.method() == Method::POST && !request.uri().path().starts_with(UPLOAD_PATH) {
            // Bodies here are small and the server functions read them whole
            // anyway: reading them first is what makes "too large" certain,
            // with or without a `Content-Length`.
            let limit = engine.config().max_payload;
            let (parts, body) = request.into_parts();
            match read_within(body, limit).await {
                Some(bytes) => Request::from_parts(parts, Body::from(bytes)),
                None => return refuse(&ProtocolError::TooLarge { limit }),
            }
        } else {
            request
        };
    let response = next.run(request).await;
    if !response.headers().contains_key(SERVER_FN_ERROR_HEADER) {
        return response;
    }
    let Ok(body) = to_bytes(response.into_body(), ERROR_BYTES).await else {
        return refuse(&ProtocolError::Server("unreadable error".to_owned()));
    };
    match serde_json::from_slice(&body) {
        // The server functions never fail with `Call`: on the server it is
        // the glue failing to decode the request.
        Ok(ProtocolError::Call(why)) => refuse(&ProtocolError::Malformed(why)),
        Ok(error) => refuse(&error),
        // Not one of ours: a server function failed in a way it does not
        // describe to clients.
        Err(_) => refuse(&ProtocolError::Server(stateside::incident(
            "server function",
            String::from_utf8_lossy(&body),
        ))),
    }
}

/// An error body is a short JSON message; anything longer is cut.
const ERROR_BYTES: usize = 16 * 1024;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_the_client_must_do_decides_the_status() {
        assert_eq!(
            status(&ProtocolError::Malformed("x".to_owned())),
            StatusCode::BAD_REQUEST
        );
        assert_eq!(
            status(&ProtocolError::MalformedToken),
            StatusCode::BAD_REQUEST
        );
        assert_eq!(
            status(&ProtocolError::UnknownSession),
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            status(&ProtocolError::TooLarge { limit: 1 }),
            StatusCode::PAYLOAD_TOO_LARGE
        );
        assert_eq!(
            status(&ProtocolError::ShuttingDown),
            StatusCode::SERVICE_UNAVAILABLE
        );
    }
}
