//! The session's stream, applied the same way whichever transport carries
//! it: a patch moves the document on, an ack empties the outbox, a
//! `missing` request sends events again, notices become toasts and actions
//! run.

use leptos::prelude::*;
use stateside_wire::{ApplyError, NoticeKind, ServerMessage, ToastLevel};

use super::{flush, storage, with_client};
use crate::actions::perform;

/// Applies one message of the stream. On an error the document has been
/// cleared: the copy can no longer follow this stream, so the caller ends
/// the connection and the next one starts from a snapshot.
pub(super) fn apply(message: ServerMessage) -> Result<(), ApplyError> {
    let Some(stateside) = with_client(|client| client.stateside) else {
        return Ok(());
    };
    let mut applied = Ok(());
    stateside
        .document
        .update(|document| applied = document.apply(&message));
    if let Err(error) = applied {
        // A missed version or a patch that does not fit: start over from a
        // snapshot rather than guess.
        stateside.document.set(Default::default());
        return Err(error);
    }
    let acked = stateside
        .document
        .with_untracked(|document| document.acked());
    with_client(|client| {
        client.failures = 0;
        client.outbox.acked(acked);
        client.stateside.unacked.set(client.outbox.len());
    });
    // A new tab shows the browser's stored values from its first paint,
    // not the defaults first.
    stateside.mark_live(!storage::reading_in());
    storage::write_back();
    if let ServerMessage::Update(update) = message {
        if let Some(missing) = update.missing {
            with_client(|client| client.outbox.resend_from(missing));
            flush();
        }
        if let Some(notice) = update.error {
            let level = match notice.kind {
                NoticeKind::Failed => ToastLevel::Error,
                NoticeKind::Stopped | NoticeKind::Refused => ToastLevel::Warning,
            };
            stateside.toast_with(level, notice.to_string(), None);
        }
        for action in update.actions {
            perform(stateside, action);
        }
    }
    Ok(())
}
