//! What a session has published, and the scheduling of its saves.

use std::sync::{
    Mutex, MutexGuard,
    atomic::{AtomicBool, Ordering},
};

use crate::{mutex::lock, outbox::Outbox, store::persister::Persister};

pub(super) struct Publishing {
    outbox: Mutex<Outbox>,
    /// Saves to a durable store, if the engine has one.
    pub(super) persister: Option<Persister>,
    /// A save is scheduled (see [`Persister`]).
    dirty: AtomicBool,
}

impl Publishing {
    pub(super) fn new(outbox: Outbox, persister: Option<Persister>) -> Self {
        Self {
            outbox: Mutex::new(outbox),
            persister,
            dirty: AtomicBool::new(false),
        }
    }

    pub(super) fn outbox(&self) -> MutexGuard<'_, Outbox> {
        lock(&self.outbox)
    }

    /// Marks a save scheduled; false if one already was.
    pub(super) fn mark_dirty(&self) -> bool {
        !self.dirty.swap(true, Ordering::SeqCst)
    }

    pub(super) fn clear_dirty(&self) {
        self.dirty.store(false, Ordering::SeqCst);
    }
}
