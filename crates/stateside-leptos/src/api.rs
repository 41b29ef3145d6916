//! The server functions that carry events up, and their replies.

use leptos::{prelude::*, server_fn::codec::Json};
use serde::{Deserialize, Serialize};
use stateside_wire::ClientEvent;

/// A tab's session, as the server confirms it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SessionInfo {
    pub token: String,
    /// The seq the server expects next from this tab.
    pub next_seq: u64,
}

/// What became of one event of a batch.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Receipt {
    Accepted,
    Held,
    Duplicate,
    /// Refused for good (unknown handler, bad arguments): never resend.
    Refused(String),
    /// The session's queue is full: resend this event and the rest later.
    Busy,
}

/// Where the patch stream is served; the client opens it with `?token=…`.
pub const STREAM_PATH: &str = "/stateside/stream";

/// The message a client sees when its token is unknown (expired, or the
/// server restarted with a store that forgets): it must open a new session.
pub const UNKNOWN_SESSION: &str = "unknown or expired session";

/// Resumes the tab's session if the server still has it, or starts one.
#[server(prefix = "/stateside", endpoint = "open")]
pub async fn open_session(resume: Option<String>) -> Result<SessionInfo, ServerFnError> {
    let engine = engine().await?;
    let existing = match resume.and_then(|token| token.parse().ok()) {
        Some(token) => engine.resume(&token).await.map_err(ServerFnError::new)?,
        None => None,
    };
    let session = match existing {
        Some(session) => session,
        None => engine.open_session().map_err(ServerFnError::new)?,
    };
    Ok(SessionInfo {
        token: session.token().to_string(),
        next_seq: session.next_seq(),
    })
}

/// Delivers a batch of events, in seq order. Stops at the first `Busy`.
#[server(prefix = "/stateside", endpoint = "send", input = Json)]
pub async fn send_events(
    token: String,
    events: Vec<ClientEvent>,
) -> Result<Vec<Receipt>, ServerFnError> {
    use stateside::{Error, Submitted};

    let engine = engine().await?;
    let token = token
        .parse()
        .map_err(|_| ServerFnError::new(UNKNOWN_SESSION))?;
    let session = engine
        .resume(&token)
        .await
        .map_err(ServerFnError::new)?
        .ok_or_else(|| ServerFnError::new(UNKNOWN_SESSION))?;
    let mut receipts = Vec::with_capacity(events.len());
    for event in events {
        let receipt = match session.submit(event) {
            Ok(Submitted::Accepted) => Receipt::Accepted,
            Ok(Submitted::Held) => Receipt::Held,
            Ok(Submitted::Duplicate) => Receipt::Duplicate,
            Err(Error::Busy { .. }) => Receipt::Busy,
            Err(error) => Receipt::Refused(error.to_string()),
        };
        let busy = receipt == Receipt::Busy;
        receipts.push(receipt);
        if busy {
            break;
        }
    }
    Ok(receipts)
}

/// The engine, which the server provides as context
/// ([`engine_context`](crate::server::engine_context)).
#[cfg(feature = "ssr")]
async fn engine() -> Result<stateside::Engine, ServerFnError> {
    use_context::<stateside::Engine>().ok_or_else(|| {
        ServerFnError::new(
            "no Stateside engine in context: serve the server functions with \
             `leptos_routes_with_context` and `stateside_leptos::server::engine_context`",
        )
    })
}
