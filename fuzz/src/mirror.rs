//! A client's copy of a session, built the way the browser builds it: a
//! subscription's backlog, then its live feed, each message through the wire
//! crate's own `Document::apply`.
//!
//! Every message is checked before it is applied: a versioned update must
//! be exactly the next version (no repeat, no skip), and an unversioned one
//! (an ack, a notice) must repeat the version the copy holds. The document
//! itself would silently ignore a repeat; the stream must not send one.

use stateside::{SessionHandle, transport::ServerMessage};
use stateside_wire::Document;
use std::sync::Arc;
use tokio::sync::broadcast::{Receiver, error::TryRecvError};

pub struct Mirror {
    pub document: Document,
    live: Receiver<Arc<ServerMessage>>,
}

impl Mirror {
    /// A client that holds `document` (at its version, or fresh when `since`
    /// is `None`) reconnecting to `session`. Returns the backlog it got,
    /// already applied.
    pub fn connect(
        session: &SessionHandle,
        document: Document,
        since: Option<u64>,
    ) -> (Self, Vec<Arc<ServerMessage>>) {
        let subscription = session.subscribe(since);
        let mut mirror = Self {
            document,
            live: subscription.live,
        };
        for message in &subscription.backlog {
            mirror.apply(message);
        }
        (mirror, subscription.backlog)
    }

    /// Applies everything the live feed has delivered so far; returns the
    /// versions the copy passed through, each after its update.
    pub fn catch_up(&mut self) -> Vec<Document> {
        let mut passed = Vec::new();
        loop {
            match self.live.try_recv() {
                Ok(message) => {
                    if self.apply(&message) {
                        passed.push(self.document.clone());
                    }
                }
                Err(TryRecvError::Empty | TryRecvError::Closed) => return passed,
                Err(TryRecvError::Lagged(missed)) => {
                    panic!("the stream buffer is larger than any input: lagged by {missed}")
                }
            }
        }
    }

    /// Checks and applies one message; says whether it moved the version.
    fn apply(&mut self, message: &ServerMessage) -> bool {
        let have = self.document.version();
        let moves = match message {
            ServerMessage::Snapshot { .. } => message.version() != have,
            ServerMessage::Update(update) if update.ops.is_empty() => {
                assert_eq!(
                    update.version, have,
                    "an unversioned update repeats the version"
                );
                false
            }
            ServerMessage::Update(update) => {
                assert_eq!(update.version, have + 1, "versions are contiguous");
                true
            }
        };
        let acked = self.document.acked();
        self.document
            .apply(message)
            .expect("the server's messages apply to the copy it keeps in step");
        assert!(self.document.acked() >= acked, "acks never go back");
        moves
    }
}
