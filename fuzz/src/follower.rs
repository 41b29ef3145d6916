//! A client following a real session, built the way the browser builds it:
//! a subscription's backlog, then its live feed, each message through the
//! wire crate's checking [`Mirror`] (which refuses a repeated, skipped or
//! backwards message as well as one that does not apply).

use stateside::{SessionHandle, transport::ServerMessage};
use stateside_wire::{Document, testing::Mirror};
use std::sync::Arc;
use tokio::sync::broadcast::{Receiver, error::TryRecvError};

/// One client's copy of the session and its live feed.
pub struct Follower {
    mirror: Mirror,
    live: Receiver<Arc<ServerMessage>>,
}

impl Follower {
    /// A client that holds `document` (at its version, or fresh when `since`
    /// is `None`) reconnecting to `session`. Returns the backlog it got,
    /// already applied.
    pub fn connect(
        session: &SessionHandle,
        document: Document,
        since: Option<u64>,
    ) -> (Self, Vec<Arc<ServerMessage>>) {
        let subscription = session.subscribe(since);
        let mut follower = Self {
            mirror: Mirror::new(document),
            live: subscription.live,
        };
        for message in &subscription.backlog {
            follower.apply(message);
        }
        (follower, subscription.backlog)
    }

    /// The client's copy as it stands.
    pub fn document(&self) -> &Document {
        self.mirror.document()
    }

    /// Applies everything the live feed has delivered so far; returns the
    /// versions the copy passed through, each after its update.
    pub fn catch_up(&mut self) -> Vec<Document> {
        let mut passed = Vec::new();
        loop {
            match self.live.try_recv() {
                Ok(message) => {
                    if self.apply(&message) {
                        passed.push(self.document().clone());
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
        self.mirror
            .apply(message)
            .unwrap_or_else(|violation| panic!("{violation}: {message:?}"))
    }
}
