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
    Json,
    body::{Body, Bytes},
    extract::{Query, State},
    http::{HeaderMap, StatusCode, header},
    response::{IntoResponse, Response},
};
use futures::{Stream, stream};
use serde::Deserialize;
use stateside::{Engine, SessionHandle, SessionToken, transport::Subscription};
use stateside_wire::{ProtocolError, ServerMessage};
use tokio::sync::broadcast::error::{RecvError, TryRecvError};

/// Sent first: how soon a browser's own `EventSource` retries a dropped
/// stream, in ms. Short, because a drop on loopback or a server restart is
/// usually over within a second.
const RETRY: &str = "retry: 500\n\n";

/// A comment line this often keeps proxies from closing an idle stream.
const KEEP_ALIVE: Duration = Duration::from_secs(15);

/// A chunk stops taking ready messages at about this size, so one burst
/// cannot build an unbounded buffer.
const CHUNK_BYTES: usize = 64 * 1024;

/// The query of a [`STREAM_PATH`](stateside_wire::STREAM_PATH) request.
#[derive(Deserialize)]
pub struct StreamQuery {
    token: String,
    since: Option<u64>,
}

/// [`STREAM_PATH`](stateside_wire::STREAM_PATH): `GET …?token=…[&since=…]`.
/// A `Last-Event-ID` header wins over `since`. A refusal is a
/// [`ProtocolError`] as JSON; its 404 tells the client its session is gone.
pub async fn stream(
    State(engine): State<Engine>,
    Query(query): Query<StreamQuery>,
    headers: HeaderMap,
) -> Response {
    let Ok(token) = query.token.parse::<SessionToken>() else {
        return refuse(ProtocolError::MalformedToken);
    };
    let session = match engine.resume(&token).await {
        Ok(Some(session)) => session,
        Ok(None) => return refuse(ProtocolError::UnknownSession),
        Err(error) => return refuse(ProtocolError::Store(error.to_string())),
    };
    let since = headers
        .get("last-event-id")
        .and_then(|value| value.to_str().ok()?.parse().ok())
        .or(query.since);
    let headers = [
        (header::CONTENT_TYPE, "text/event-stream"),
        (header::CACHE_CONTROL, "no-cache"),
    ];
    (headers, Body::from_stream(chunks(session, since))).into_response()
}

fn refuse(error: ProtocolError) -> Response {
    let status = match error {
        ProtocolError::MalformedToken => StatusCode::BAD_REQUEST,
        ProtocolError::UnknownSession => StatusCode::NOT_FOUND,
        _ => StatusCode::SERVICE_UNAVAILABLE,
    };
    (status, Json(error)).into_response()
}

struct Cursor {
    session: SessionHandle,
    backlog: std::vec::IntoIter<Arc<ServerMessage>>,
    live: tokio::sync::broadcast::Receiver<Arc<ServerMessage>>,
    /// The last version this stream delivered, to resync from after a lag.
    version: Option<u64>,
}

impl Cursor {
    fn new(session: SessionHandle, since: Option<u64>) -> Self {
        let Subscription { backlog, live } = session.subscribe(since);
        Self {
            session,
            backlog: backlog.into_iter(),
            live,
            version: since,
        }
    }

    /// Waits for the next message; `None` when the session's streams end.
    async fn next(&mut self) -> Option<Arc<ServerMessage>> {
        loop {
            if let Some(message) = self.backlog.next() {
                return Some(message);
            }
            match self.live.recv().await {
                Ok(message) => return Some(message),
                Err(RecvError::Lagged(_)) => self.resync(),
                Err(RecvError::Closed) => return None,
            }
        }
    }

    /// The next message if one is ready now.
    fn ready(&mut self) -> Option<Arc<ServerMessage>> {
        loop {
            if let Some(message) = self.backlog.next() {
                return Some(message);
            }
            match self.live.try_recv() {
                Ok(message) => return Some(message),
                Err(TryRecvError::Lagged(_)) => self.resync(),
                Err(TryRecvError::Empty | TryRecvError::Closed) => return None,
            }
        }
    }

    /// Too slow to keep up: rather than buffer without bound, restart from
    /// what this client has (a replay from the ring, or a snapshot).
    fn resync(&mut self) {
        let Subscription { backlog, live } = self.session.subscribe(self.version);
        self.backlog = backlog.into_iter();
        self.live = live;
    }

    /// Appends one message as an SSE event.
    fn write(&mut self, chunk: &mut String, message: &ServerMessage) {
        let json = serde_json::to_string(message).expect("wire messages serialise");
        metrics::histogram!("stateside_update_bytes").record(json.len() as f64);
        if carries_version(message) {
            self.version = Some(message.version());
            let _ = writeln!(chunk, "id: {}", message.version());
        }
        let _ = write!(chunk, "data: {json}\n\n");
    }
}

/// The stream's body: each chunk holds every message ready when it is
/// written, or a keep-alive comment after a quiet spell.
fn chunks(
    session: SessionHandle,
    since: Option<u64>,
) -> impl Stream<Item = Result<Bytes, Infallible>> {
    let start = (Cursor::new(session, since), String::from(RETRY));
    stream::unfold(start, |(mut cursor, mut chunk)| async move {
        // `recv` on a broadcast receiver is cancel-safe, so losing this
        // race to the keep-alive loses no message.
        tokio::select! {
            message = cursor.next() => {
                let message = message?;
                cursor.write(&mut chunk, &message);
                while chunk.len() < CHUNK_BYTES {
                    let Some(message) = cursor.ready() else { break };
                    cursor.write(&mut chunk, &message);
                }
            }
            () = tokio::time::sleep(KEEP_ALIVE) => chunk.push_str(":\n\n"),
        }
        Some((Ok(Bytes::from(chunk)), (cursor, String::new())))
    })
}

/// Only messages that move the document get an SSE id: an ack-only update
/// must not advance the browser's `Last-Event-ID` past a missed patch.
fn carries_version(message: &ServerMessage) -> bool {
    match message {
        ServerMessage::Snapshot { .. } => true,
        ServerMessage::Update(update) => !update.ops.is_empty(),
    }
}
