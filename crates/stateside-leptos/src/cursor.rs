//! A reader's place in a session's stream, shared by both transports (the
//! SSE route and the socket): the backlog first (a replay from the ring or
//! a snapshot), then the live feed, and a restart from what the reader has
//! when it falls too far behind.

use std::sync::Arc;

use stateside::{Error, SessionHandle, transport::Subscription};
use stateside_wire::{ProtocolError, ServerMessage};
use tokio::sync::broadcast::{
    self,
    error::{RecvError, TryRecvError},
};

/// A transport stops adding ready messages to one write (an SSE chunk, a
/// socket frame) at about this size, so that one burst cannot build an
/// unbounded buffer. A single message larger than this still goes alone.
pub(crate) const BATCH_BYTES: usize = 64 * 1024;

/// Where one reader is in its session's stream.
pub(crate) struct Cursor {
    session: SessionHandle,
    backlog: std::vec::IntoIter<Arc<ServerMessage>>,
    live: broadcast::Receiver<Arc<ServerMessage>>,
    /// The last document version this reader was given, to resync from.
    version: Option<u64>,
}

impl Drop for Cursor {
    /// Lets go of the stream first, so that the session counts it gone
    /// when presence is refreshed.
    fn drop(&mut self) {
        drop(std::mem::replace(&mut self.live, broadcast::channel(1).1));
        self.session.stream_closed();
    }
}

impl Cursor {
    /// Starts after version `since` (a replay when the ring still has it),
    /// or from a snapshot; refused if the session has all the streams it
    /// may have.
    pub(crate) fn new(session: SessionHandle, since: Option<u64>) -> Result<Self, ProtocolError> {
        let Subscription { backlog, live } =
            session.subscribe(since).map_err(|error| match error {
                Error::TooManyStreams { limit } => ProtocolError::TooManyStreams { limit },
                other => ProtocolError::Server(stateside::incident("subscribe", other)),
            })?;
        Ok(Self {
            session,
            backlog: backlog.into_iter(),
            live,
            version: since,
        })
    }

    /// Waits for the next message; `None` when the session's streams end
    /// (the engine is closing). Cancel-safe: a message is never lost by
    /// dropping this future, since a broadcast `recv` is.
    pub(crate) async fn next(&mut self) -> Option<Arc<ServerMessage>> {
        loop {
            if let Some(message) = self.backlog.next() {
                match self.passed(message) {
                    Some(message) => return Some(message),
                    None => continue,
                }
            }
            match self.live.recv().await {
                Ok(message) => {
                    if let Some(message) = self.passed(message) {
                        return Some(message);
                    }
                }
                Err(RecvError::Lagged(_)) => self.resync(),
                Err(RecvError::Closed) => return None,
            }
        }
    }

    /// The next message if one is ready now.
    pub(crate) fn ready(&mut self) -> Option<Arc<ServerMessage>> {
        loop {
            if let Some(message) = self.backlog.next() {
                match self.passed(message) {
                    Some(message) => return Some(message),
                    None => continue,
                }
            }
            match self.live.try_recv() {
                Ok(message) => {
                    if let Some(message) = self.passed(message) {
                        return Some(message);
                    }
                }
                Err(TryRecvError::Lagged(_)) => self.resync(),
                Err(TryRecvError::Empty | TryRecvError::Closed) => return None,
            }
        }
    }

    /// The message to send on, or `None` for one this reader is past: a
    /// reader's document never goes back, though a Redis follower's copy
    /// may trail the owner the tab last heard from (and then relays, or
    /// acks, versions the tab already has).
    fn passed(&mut self, message: Arc<ServerMessage>) -> Option<Arc<ServerMessage>> {
        if let Some(held) = self.version {
            let behind = match &*message {
                ServerMessage::Snapshot { version, .. } => *version <= held,
                ServerMessage::Update(update) if !update.ops.is_empty() => update.version <= held,
                // Only an ack, at a version before the reader's: old news.
                ServerMessage::Update(update) => {
                    update.version < held
                        && update.actions.is_empty()
                        && update.error.is_none()
                        && update.missing.is_none()
                }
            };
            if behind {
                return None;
            }
        }
        if moves_document(&message) {
            self.version = Some(message.version());
        }
        Some(message)
    }

    /// Too slow to keep up: rather than buffer without bound, restart from
    /// what this reader has (a replay from the ring, or a snapshot).
    fn resync(&mut self) {
        let lagging = std::mem::replace(&mut self.live, broadcast::channel(1).1);
        let Subscription { backlog, live } = self.session.resubscribe(self.version, lagging);
        self.backlog = backlog.into_iter();
        self.live = live;
    }
}

/// Whether a message moves the document to its version: an ack-only update
/// does not, and must not advance a reader's place past a missed patch.
pub(crate) fn moves_document(message: &ServerMessage) -> bool {
    match message {
        ServerMessage::Snapshot { .. } => true,
        ServerMessage::Update(update) => !update.ops.is_empty(),
    }
}

/// Counts one message's bytes on the wire, whichever transport sent it.
pub(crate) fn record_size(bytes: usize) {
    metrics::histogram!("stateside_update_bytes").record(bytes as f64);
}
