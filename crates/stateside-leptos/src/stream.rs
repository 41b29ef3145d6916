//! The patch stream: an SSE route that replays what a client missed, then
//! follows the session live.
//!
//! Each versioned message carries its version as the SSE `id`, so the
//! browser's automatic reconnect sends it back as `Last-Event-ID` and the
//! replay starts exactly where the client stopped.

use std::{convert::Infallible, sync::Arc, time::Duration};

use axum::{
    Extension,
    extract::Query,
    http::{HeaderMap, StatusCode},
    response::{
        IntoResponse, Response,
        sse::{Event, KeepAlive, Sse},
    },
};
use futures::{Stream, stream};
use serde::Deserialize;
use stateside::{Engine, SessionHandle, SessionToken, Subscription};
use stateside_wire::ServerMessage;
use tokio::sync::broadcast::error::RecvError;

/// How soon the browser retries a dropped stream. Short, because a drop on
/// loopback or a server restart is usually over within a second.
const RECONNECT_DELAY: Duration = Duration::from_millis(500);

#[derive(Deserialize)]
pub struct StreamQuery {
    token: String,
    since: Option<u64>,
}

/// [`STREAM_PATH`](crate::api::STREAM_PATH): `GET /stateside/stream?token=…[&since=…]`. A `Last-Event-ID` header wins
/// over `since`. 404 tells the client its session is gone.
pub async fn stream(
    Extension(engine): Extension<Engine>,
    Query(query): Query<StreamQuery>,
    headers: HeaderMap,
) -> Response {
    let Ok(token) = query.token.parse::<SessionToken>() else {
        return (StatusCode::BAD_REQUEST, "malformed session token").into_response();
    };
    let session = match engine.resume(&token).await {
        Ok(Some(session)) => session,
        Ok(None) => return (StatusCode::NOT_FOUND, crate::api::UNKNOWN_SESSION).into_response(),
        Err(error) => return (StatusCode::SERVICE_UNAVAILABLE, error.to_string()).into_response(),
    };
    let since = headers
        .get("last-event-id")
        .and_then(|value| value.to_str().ok()?.parse().ok())
        .or(query.since);
    Sse::new(messages(session, since))
        .keep_alive(KeepAlive::default())
        .into_response()
}

struct Cursor {
    session: SessionHandle,
    /// Whether the reconnect delay has been sent (once per stream is enough).
    told_retry: bool,
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
            told_retry: false,
            backlog: backlog.into_iter(),
            live,
            version: since,
        }
    }

    async fn next(&mut self) -> Option<Arc<ServerMessage>> {
        loop {
            if let Some(message) = self.backlog.next() {
                return Some(message);
            }
            match self.live.recv().await {
                Ok(message) => return Some(message),
                // Too slow to keep up: rather than buffer without bound,
                // restart from what this client has (replay or snapshot).
                Err(RecvError::Lagged(_)) => {
                    let Subscription { backlog, live } = self.session.subscribe(self.version);
                    self.backlog = backlog.into_iter();
                    self.live = live;
                }
                Err(RecvError::Closed) => return None,
            }
        }
    }
}

fn messages(
    session: SessionHandle,
    since: Option<u64>,
) -> impl Stream<Item = Result<Event, Infallible>> {
    stream::unfold(Cursor::new(session, since), |mut cursor| async move {
        let message = cursor.next().await?;
        let json = serde_json::to_string(&*message).expect("wire messages serialise");
        metrics::histogram!("stateside_update_bytes").record(json.len() as f64);
        let mut event = Event::default().data(json);
        if carries_version(&message) {
            cursor.version = Some(message.version());
            event = event.id(message.version().to_string());
        }
        if !cursor.told_retry {
            cursor.told_retry = true;
            event = event.retry(RECONNECT_DELAY);
        }
        Some((Ok(event), cursor))
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
