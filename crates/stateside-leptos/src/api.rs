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
    let engine = engine()?;
    let session = crate::session::open_or_resume(&engine, resume.as_deref()).await?;
    Ok(crate::session::info(&engine, &session))
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
    let engine = engine()?;
    let session = crate::session::resume(&engine, &token).await?;
    // Each POST is the tab's connection as far as its handlers can tell.
    if let Some(parts) = use_context::<axum::http::request::Parts>() {
        let address = parts
            .extensions
            .get::<crate::request::ClientAddress>()
            .copied();
        session.connected(crate::request::capture(
            engine.app(),
            address,
            &parts.headers,
        ));
    }
    let receipts = crate::session::submit(&session, events);
    Ok(receipts.into_iter().map(|(_, receipt)| receipt).collect())
}

/// The engine, which the server provides as context
/// ([`engine_context`](crate::server::engine_context)).
#[cfg(feature = "ssr")]
fn engine() -> Result<stateside::Engine, ProtocolError> {
    use_context::<stateside::Engine>().ok_or_else(|| {
        ProtocolError::Server(
            "no Stateside engine in context: serve the server functions with \
             `leptos_routes_with_context` and `stateside_leptos::server::engine_context`"
                .to_owned(),
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
