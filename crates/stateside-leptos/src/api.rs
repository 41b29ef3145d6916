//! The server functions that open a session and carry events up.
//!
//! Their replies and errors are the wire crate's protocol types
//! ([`SessionInfo`], [`Receipt`], [`ProtocolError`]), which every other
//! client (the load generator, the protocol tests) reads too; the error is
//! typed so that the browser tells a lost session from a failed call
//! without reading messages.

use leptos::{prelude::*, server_fn::codec::Json};
use stateside_wire::{ClientEvent, ProtocolError, Receipt, SessionInfo};

/// Resumes the tab's session if the server still has it, or starts one.
///
/// Served at [`OPEN_PATH`](stateside_wire::OPEN_PATH); its arguments are an
/// [`OpenRequest`](stateside_wire::OpenRequest).
#[server(prefix = "/stateside", endpoint = "open")]
pub async fn open_session(
    /// The token the tab held, if any.
    resume: Option<String>,
) -> Result<SessionInfo, ProtocolError> {
    let engine = engine().await.map_err(no_engine)?;
    let existing = match resume.and_then(|token| token.parse().ok()) {
        Some(token) => engine.resume(&token).await.map_err(store_failed)?,
        None => None,
    };
    let session = match existing {
        Some(session) => session,
        None => engine.open().map_err(not_opened)?,
    };
    Ok(SessionInfo {
        token: session.token().to_string(),
        next_seq: session.next_seq(),
    })
}

/// Delivers a batch of events, in seq order. Stops at the first `Busy`.
///
/// Served at [`SEND_PATH`](stateside_wire::SEND_PATH); its arguments are a
/// [`SendRequest`](stateside_wire::SendRequest).
#[server(prefix = "/stateside", endpoint = "send", input = Json)]
pub async fn send_events(
    /// The session the events belong to.
    token: String,
    /// Events in seq order.
    events: Vec<ClientEvent>,
) -> Result<Vec<Receipt>, ProtocolError> {
    let engine = engine().await.map_err(no_engine)?;
    let token = token.parse().map_err(|_| ProtocolError::MalformedToken)?;
    let session = engine
        .resume(&token)
        .await
        .map_err(store_failed)?
        .ok_or(ProtocolError::UnknownSession)?;
    let mut receipts = Vec::with_capacity(events.len());
    for event in events {
        let receipt = receipt(session.submit(event));
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
fn receipt(submitted: Result<stateside::transport::Submitted, stateside::Error>) -> Receipt {
    use stateside::{Error, transport::Submitted};
    use stateside_wire::{Refusal, RefusalReason};

    let error = match submitted {
        Ok(Submitted::Accepted) => return Receipt::Accepted,
        Ok(Submitted::Held) => return Receipt::Held,
        Ok(Submitted::Duplicate) => return Receipt::Duplicate,
        Err(error) => error,
    };
    let reason = match error {
        Error::Busy { .. } => return Receipt::Busy,
        Error::UnknownHandler(_) => RefusalReason::UnknownHandler,
        Error::BadArgs { .. } => RefusalReason::BadArgs,
        Error::SeqOutOfWindow { .. } => RefusalReason::SeqOutOfWindow,
        Error::NotBackground(_) => RefusalReason::NotBackground,
        Error::TooManyTasks { .. } => RefusalReason::TooManyTasks,
        Error::TooManySessions { .. } => RefusalReason::TooManySessions,
        Error::UnknownSession => RefusalReason::UnknownSession,
        Error::ShuttingDown => RefusalReason::ShuttingDown,
    };
    Receipt::Refused(Refusal {
        reason,
        message: error.to_string(),
    })
}

/// Why the engine would not open a session.
#[cfg(feature = "ssr")]
fn not_opened(error: stateside::Error) -> ProtocolError {
    match error {
        stateside::Error::TooManySessions { limit } => ProtocolError::TooManySessions { limit },
        stateside::Error::ShuttingDown => ProtocolError::ShuttingDown,
        other => ProtocolError::Server(other.to_string()),
    }
}

#[cfg(feature = "ssr")]
fn store_failed(error: stateside::StoreError) -> ProtocolError {
    ProtocolError::Store(error.to_string())
}

#[cfg(feature = "ssr")]
fn no_engine(error: ServerFnError) -> ProtocolError {
    ProtocolError::Server(error.to_string())
}

#[cfg(feature = "ssr")]
async fn engine() -> Result<stateside::Engine, ServerFnError> {
    use_context::<stateside::Engine>().ok_or_else(|| {
        ServerFnError::new(
            "no Stateside engine in context: serve the server functions with \
             `leptos_routes_with_context` and `stateside_leptos::server::engine_context`",
        )
    })
}

/// The paths and argument shapes the macros generate are the ones the wire
/// crate names for every other client.
#[cfg(test)]
mod tests {
    use leptos::server_fn::ServerFn;
    use stateside_wire::{OPEN_PATH, OpenRequest, SEND_PATH, SendRequest};

    use super::*;

    #[test]
    fn the_server_functions_serve_the_protocol() {
        assert_eq!(OpenSession::PATH, OPEN_PATH);
        assert_eq!(SendEvents::PATH, SEND_PATH);
        let token = "t".to_owned();
        let open = OpenSession {
            resume: Some(token.clone()),
        };
        let expected = OpenRequest {
            resume: Some(token.clone()),
        };
        assert_eq!(
            serde_json::to_value(open).unwrap(),
            serde_json::to_value(expected).unwrap()
        );
        let events = vec![ClientEvent {
            seq: 1,
            handler: "h".to_owned(),
            args: serde_json::Value::Null,
        }];
        let send = SendEvents {
            token: token.clone(),
            events: events.clone(),
        };
        assert_eq!(
            serde_json::to_value(send).unwrap(),
            serde_json::to_value(SendRequest { token, events }).unwrap()
        );
    }
}
