//! The way events come in: the sequencer that puts them in order, the
//! watch on a gap in it, and, on a Redis follower, the forwarder that sends
//! them to the session's owner instead.

use std::sync::{
    Mutex,
    atomic::{AtomicBool, Ordering},
};

use stateside_wire::ClientEvent;

use crate::{
    call::Prepared, error::Error, sequencer::Sequencer, store::record::StoredSession,
    task_id::TaskId,
};

/// A follower's way to the instance that owns its session. Events must
/// leave in the order they are sent.
pub(crate) trait Forward: Send + Sync {
    /// Hands an event on, or answers `Busy` when the way to the owner is
    /// full.
    fn send(&self, event: ClientEvent) -> Result<(), Error>;
    /// Whether [`send`](Self::send) would take an event now.
    fn has_room(&self) -> bool;
    /// Asks the owner to cancel one of its tasks, in order with the events.
    fn cancel(&self, task: TaskId);
    /// Hands on an event the server raised (`SessionHandle::emit`), which
    /// has no seq; `Busy` when the way to the owner is full.
    fn emit(&self, handler: String, args: serde_json::Value) -> Result<(), Error>;
}

/// An event as the sequencer holds it: decoded, or the reason it was refused.
pub(super) type Decoded = Result<Prepared, Error>;

pub(super) struct Intake {
    pub(super) sequencer: Mutex<Sequencer<Decoded>>,
    /// A gap watch is pending (see `SessionInner::watch_gap`).
    gap_watched: AtomicBool,
    /// Set, under the sequencer's mutex, when the engine frees the session,
    /// so an event that raced the expiry is refused instead of lost.
    expired: AtomicBool,
    /// Set on a Redis instance that does not own the session: its events go
    /// to the owner, and its outbox follows what the owner publishes.
    pub(super) forward: Option<Box<dyn Forward>>,
}

impl Intake {
    pub(super) fn new(
        window: u64,
        stored: &StoredSession,
        forward: Option<Box<dyn Forward>>,
    ) -> Self {
        let sequencer = Sequencer::resumed(window, stored.applied_through, &stored.applied_ahead);
        Self {
            sequencer: Mutex::new(sequencer),
            gap_watched: AtomicBool::new(false),
            expired: AtomicBool::new(false),
            forward,
        }
    }

    /// Claims the one pending gap watch; false if there already is one.
    pub(super) fn claim_gap_watch(&self) -> bool {
        !self.gap_watched.swap(true, Ordering::SeqCst)
    }

    pub(super) fn release_gap_watch(&self) {
        self.gap_watched.store(false, Ordering::SeqCst);
    }

    /// Call with the sequencer's mutex held.
    pub(super) fn expire(&self) {
        self.expired.store(true, Ordering::SeqCst);
    }

    /// Call with the sequencer's mutex held.
    pub(super) fn is_expired(&self) -> bool {
        self.expired.load(Ordering::SeqCst)
    }
}
