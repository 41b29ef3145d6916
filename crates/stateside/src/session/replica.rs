//! What the cluster code may do with a session, beyond what anyone may:
//! hold it weakly, save it again, and, on a follower, take what the owner
//! publishes.

use std::sync::{Arc, Weak};

use stateside_wire::ServerMessage;

use super::{handle::SessionHandle, inner::SessionInner};
use crate::store::record::StoredSession;

/// A handle that does not keep its session alive.
#[derive(Clone)]
pub(crate) struct WeakSession(Weak<SessionInner>);

impl WeakSession {
    pub(crate) fn upgrade(&self) -> Option<SessionHandle> {
        self.0.upgrade().map(SessionHandle::from)
    }
}

impl SessionHandle {
    pub(crate) fn downgrade(&self) -> WeakSession {
        WeakSession(Arc::downgrade(&self.inner))
    }

    /// Saves the session again: for a record that may be gone from Redis.
    pub(crate) fn persist(&self) {
        self.inner.persist();
    }

    /// On a follower: takes what the owner published with a save that
    /// stored everything up to `through`. False when an update is missing;
    /// then [`catch_up`](Self::catch_up) with the record.
    pub(crate) fn follow(&self, messages: Vec<ServerMessage>, through: u64) -> bool {
        self.inner.publishing.outbox().follow(messages, through)
    }

    /// On a follower: starts over from `stored`, if it is ahead of what
    /// this copy has.
    pub(crate) fn catch_up(&self, stored: StoredSession) {
        let mut outbox = self.inner.publishing.outbox();
        if stored.version > outbox.version() {
            outbox.reset(stored);
        }
    }
}
