//! The patch stream: an SSE route that replays what a client missed, then
//! follows the session live.
//!
//! Each versioned message carries its version as the SSE `id`, so a
//! browser's automatic reconnect sends it back as `Last-Event-ID` and the
//! replay starts exactly where the client stopped.
//!
//! The framing is written here rather than by axum's `Sse`, to write every
//! message that is ready in one chunk: a burst of updates (a task in a tight
//! loop, a batch of events) then costs one socket write, not one per update,
//! and the kernel's share of an update is most of its cost. The messages on
//! the wire are the same SSE events either way.

use std::{convert::Infallible, fmt::Write, sync::Arc, time::Duration};

use axum::{
    body::{Body, Bytes},
    extract::{Extension, Query, State},
    http::{HeaderMap, header},
    response::{IntoResponse, Response},
};
use futures::{Stream, stream};
use serde::Deserialize;
use stateside::Engine;
use stateside_wire::ServerMessage;
use tokio::sync::mpsc;

use crate::{
    admission::StreamPermit,
    cursor::{BATCH_BYTES, Cursor, moves_document, record_size},
    session,
    status::refuse,
};

/// Sent first: how soon a browser's own `EventSource` retries a dropped
/// stream, in ms. Short, because a drop on loopback or a server restart is
/// usually over within a second.
const RETRY: &str = "retry: 500\n\n";

/// A comment line this often keeps proxies from closing an idle stream.
const KEEP_ALIVE: Duration = Duration::from_secs(15);

/// How long a chunk may wait for the connection to take it before the
/// stream is taken for stalled (see [`chunks`]): two keep-alive periods,
/// as a live tab reads at least that often.
const WRITE_TIMEOUT: Duration = Duration::from_secs(30);

/// The query of a [`STREAM_PATH`](stateside_wire::STREAM_PATH) request.
#[derive(Deserialize)]
pub struct StreamQuery {
    token: String,
    since: Option<u64>,
}

/// [`STREAM_PATH`](stateside_wire::STREAM_PATH): `GET …?token=…[&since=…]`.
/// A `Last-Event-ID` header wins over `since`. A refusal is a
/// [`ProtocolError`](stateside_wire::ProtocolError) as JSON, with the status
/// its case calls for: a 404 tells the client its session is gone.
pub(crate) async fn stream(
    State(engine): State<Engine>,
    Query(query): Query<StreamQuery>,
    permit: Option<Extension<Arc<StreamPermit>>>,
    headers: HeaderMap,
) -> Response {
    let session = match session::resume(&engine, &query.token).await {
        Ok(session) => session,
        Err(error) => return refuse(&error),
    };
    let since = headers
        .get("last-event-id")
        .and_then(|value| value.to_str().ok()?.parse().ok())
        .or(query.since);
    let headers = [
        (header::CONTENT_TYPE, "text/event-stream"),
        (header::CACHE_CONTROL, "no-cache"),
    ];
    match Cursor::new(session, since) {
        Ok(cursor) => {
            let body = Body::from_stream(chunks(cursor, permit.map(|Extension(permit)| permit)));
            (headers, body).into_response()
        }
        Err(error) => refuse(&error),
    }
}

/// Appends one message as an SSE event.
fn write(chunk: &mut String, message: &ServerMessage) {
    let json = serde_json::to_string(message).expect("wire messages serialise");
    record_size(json.len());
    if moves_document(message) {
        let _ = writeln!(chunk, "id: {}", message.version());
    }
    let _ = write!(chunk, "data: {json}\n\n");
}

/// The stream's body: each chunk holds every message ready when it is
/// written, or a keep-alive comment after a quiet spell.
///
/// A task writes the chunks into a channel of one, which the body reads as
/// the connection takes them. A tab that stops reading (its window closed,
/// while its TCP connection stays up) leaves a chunk untaken: after
/// `WRITE_TIMEOUT` the task gives up and the stream ends, with `permit`
/// (its place in the client's limits), instead of holding both for as
/// long as the peer cares to.
fn chunks(
    mut cursor: Cursor,
    permit: Option<Arc<StreamPermit>>,
) -> impl Stream<Item = Result<Bytes, Infallible>> {
    let (sender, receiver) = mpsc::channel(1);
    tokio::spawn(async move {
        let _permit = permit;
        let mut chunk = String::from(RETRY);
        loop {
            // `Cursor::next` is cancel-safe, so losing this race to the
            // keep-alive loses no message.
            tokio::select! {
                message = cursor.next() => {
                    let Some(message) = message else { return };
                    write(&mut chunk, &message);
                    while chunk.len() < BATCH_BYTES {
                        let Some(message) = cursor.ready() else { break };
                        write(&mut chunk, &message);
                    }
                }
                () = tokio::time::sleep(KEEP_ALIVE) => chunk.push_str(":\n\n"),
                // The tab went: let go of the session's stream at once, not
                // at the next message, so the session can expire.
                () = sender.closed() => return,
            }
            let taken = sender.send_timeout(Bytes::from(std::mem::take(&mut chunk)), WRITE_TIMEOUT);
            if taken.await.is_err() {
                return;
            }
        }
    });
    stream::unfold(receiver, |mut receiver| async move {
        let chunk = receiver.recv().await?;
        Some((Ok(chunk), receiver))
    })
}
