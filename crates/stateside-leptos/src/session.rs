//! What every transport asks of the engine, in the protocol's terms: a
//! session by its token or a new one, and a batch of events taken with a
//! receipt each. The server functions, the SSE route and the socket all go
//! through here, so a refusal means the same on each.

use stateside::{Engine, Error, SessionHandle, SessionToken, transport::Submitted};
use stateside_wire::{ClientEvent, ProtocolError, Receipt, Refusal, RefusalReason, SessionInfo};

/// The session `resume` names, if the server still has it (in memory or
/// in its store), or else a new one: a tab that lost its session carries
/// on with a fresh one, and sees the new token.
pub(crate) async fn open_or_resume(
    engine: &Engine,
    resume: Option<&str>,
) -> Result<SessionHandle, ProtocolError> {
    accepting(engine)?;
    let existing = match resume.and_then(|token| token.parse::<SessionToken>().ok()) {
        Some(token) => engine.resume(&token).await.map_err(store_failed)?,
        None => None,
    };
    match existing {
        Some(session) => Ok(session),
        None => engine.open().map_err(not_opened),
    }
}

/// What the tab is told of its session as a connection opens, on either
/// transport.
pub(crate) fn info(engine: &Engine, session: &SessionHandle) -> SessionInfo {
    SessionInfo {
        token: session.token().to_string(),
        next_seq: session.next_seq(),
        storage: engine.app().storage_bindings(),
    }
}

/// The session `token` names, which must exist.
pub(crate) async fn resume(engine: &Engine, token: &str) -> Result<SessionHandle, ProtocolError> {
    accepting(engine)?;
    let token = token
        .parse::<SessionToken>()
        .map_err(|_| ProtocolError::MalformedToken)?;
    engine
        .resume(&token)
        .await
        .map_err(store_failed)?
        .ok_or(ProtocolError::UnknownSession)
}

/// A closing engine takes no new connections or calls, so that the
/// server's graceful shutdown is not held open by new streams.
fn accepting(engine: &Engine) -> Result<(), ProtocolError> {
    if engine.is_accepting() {
        Ok(())
    } else {
        Err(ProtocolError::ShuttingDown)
    }
}

/// Submits events in order, with a receipt for each one tried; stops after
/// the first [`Receipt::Busy`], since the client resends from there.
pub(crate) fn submit(session: &SessionHandle, events: Vec<ClientEvent>) -> Vec<(u64, Receipt)> {
    let mut receipts = Vec::with_capacity(events.len());
    for event in events {
        let seq = event.seq;
        let receipt = receipt(session.submit(event));
        let busy = receipt == Receipt::Busy;
        receipts.push((seq, receipt));
        if busy {
            break;
        }
    }
    receipts
}

/// The receipt for one submitted event. Whether the client may resend a
/// refused one is [`Refusal::is_final`]'s to say, by its reason.
pub(crate) fn receipt(submitted: Result<Submitted, Error>) -> Receipt {
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
        // A handler's own errors, raised while it runs; a submission never
        // gets them, and they would be the app's to fix, never to resend.
        Error::NotBackground(_)
        | Error::NotLinked { .. }
        | Error::SharedLockOrder { .. }
        | Error::Store(_) => RefusalReason::NotBackground,
        Error::TooManyTasks { .. } => RefusalReason::TooManyTasks,
        // A stream's refusal; an event never gets it.
        Error::TooManySessions { .. } | Error::TooManyStreams { .. } => {
            RefusalReason::TooManySessions
        }
        Error::UnknownSession => RefusalReason::UnknownSession,
        Error::ShuttingDown => RefusalReason::ShuttingDown,
    };
    Receipt::Refused(Refusal {
        reason,
        message: error.to_string(),
    })
}

/// Why the engine would not open a session.
fn not_opened(error: Error) -> ProtocolError {
    match error {
        Error::TooManySessions { limit } => ProtocolError::TooManySessions { limit },
        Error::ShuttingDown => ProtocolError::ShuttingDown,
        other => ProtocolError::Server(stateside::incident("open", other)),
    }
}

/// The store's error chain may name its host or path: the log gets it, the
/// client an error id.
fn store_failed(error: stateside::StoreError) -> ProtocolError {
    ProtocolError::Store(stateside::incident("store", error))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each engine refusal reaches the client as the case that tells it
    /// whether to resend.
    #[test]
    fn only_a_faulty_event_is_refused_for_good() {
        let refused = |error| match receipt(Err(error)) {
            Receipt::Refused(refusal) => refusal,
            other => panic!("not refused: {other:?}"),
        };
        assert!(refused(Error::UnknownHandler("h".to_owned())).is_final());
        assert!(!refused(Error::ShuttingDown).is_final());
        assert!(!refused(Error::UnknownSession).is_final());
        assert_eq!(
            receipt(Err(Error::Busy { waiting: 1 })),
            Receipt::Busy,
            "busy is a receipt of its own, resent after a pause"
        );
    }
}
