//! Shared states: one value per key (a room, a document, a user), linked by
//! many sessions, with the rules a session's own states have.
//!
//! - **Held once.** [`SharedStates`] keeps one [`SharedCell`] per state
//!   name and key. A cell has its own fair lock over its one state, so
//!   writers from every linked session queue in the order they asked, as a
//!   session's handlers and tasks do.
//! - **Linked from handler code only.** A session links to a key with
//!   [`Cx::link`](crate::Cx::link); the key is whatever the handler
//!   computes on the server, never a value a tab can name by itself.
//! - **Written inside a lock section.** [`Cx::shared`](crate::Cx::shared)
//!   (and `Guard::shared` in a task) takes the cell's lock into the
//!   section: the section publishes or rolls back the session's states and
//!   the shared ones together.
//! - **Fanned out per session.** A cell's commit sends its ops to every
//!   linked session's outbox, where they get that session's next version:
//!   replay, snapshots and exactly-once stay per session, as before.
//!
//! # Lock order
//!
//! A section holds its session's lock first, then shared locks in
//! ascending (name, key) order ([`SharedSections`] refuses any other order
//! with an error instead of risking a deadlock); a cell's fan-out then
//! takes each linked session's outbox mutex, which nothing holds across an
//! await. Sessions never wait for each other's locks, so no cycle can form.

mod cell;
mod durable;
mod links;
mod sections;

use std::{
    collections::HashMap,
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, Ordering},
    },
    time::Duration,
};

use stateside_wire::SharedState;

pub(crate) use cell::{Linked, SharedCell, removal};
pub(crate) use durable::Durable;
pub(crate) use links::SessionLinks;
pub(crate) use sections::SharedSections;

use crate::{error::Error, mutex::lock};

/// Every shared state of the engine, by state name and key.
pub(crate) struct SharedStates {
    cells: Mutex<HashMap<(&'static str, String), Arc<SharedCell>>>,
    /// How long a cell nothing links to is kept, for a tab that comes back.
    idle_ttl: Duration,
    /// Its state's byte budget, as a session's.
    max_bytes: usize,
    /// Where they are kept, with a durable store.
    durable: Option<Arc<Durable>>,
    /// Set on Redis, where each process would hold its own copy: the first
    /// link says so in the log, once.
    unshared_across_processes: AtomicBool,
}

impl SharedStates {
    pub(crate) fn new(idle_ttl: Duration, max_bytes: usize, durable: Option<Durable>) -> Self {
        Self {
            cells: Mutex::default(),
            idle_ttl,
            max_bytes,
            durable: durable.map(Arc::new),
            unshared_across_processes: AtomicBool::new(false),
        }
    }

    /// Shared states on an engine that shares its sessions with other
    /// processes (Redis), which shared states do not do yet.
    pub(crate) fn per_process(self) -> Self {
        self.unshared_across_processes
            .store(true, Ordering::Relaxed);
        self
    }

    /// The cell of `T` for `key`: the one held, else the store's, else a
    /// new one with `T`'s initial value.
    ///
    /// # Errors
    ///
    /// The store failed to read it: linking fails rather than start the
    /// state over and overwrite what the store has.
    pub(crate) async fn open<T: SharedState + Send + Sync>(
        &self,
        key: &str,
    ) -> Result<Arc<SharedCell>, Error> {
        if self
            .unshared_across_processes
            .swap(false, Ordering::Relaxed)
        {
            tracing::warn!(
                state = T::NAME,
                "shared states are held per process: with the Redis store, sessions on \
                 other processes linked to the same key see another copy (README, \"Shared states\")"
            );
        }
        let id = (T::NAME, key.to_owned());
        if let Some(cell) = lock(&self.cells).get(&id) {
            return Ok(Arc::clone(cell));
        }
        let stored = match &self.durable {
            Some(durable) => durable.load(T::NAME, key).await?,
            None => None,
        };
        let cell = SharedCell::new::<T>(key, self.max_bytes, stored, self.durable.clone());
        // Another session may have opened it meanwhile: that one it is.
        let mut cells = lock(&self.cells);
        Ok(Arc::clone(
            cells.entry(id).or_insert_with(|| Arc::new(cell)),
        ))
    }

    /// Whether `cell` is still the one held for its key: a cell freed while
    /// a session was linking to it is not, and the session links again.
    pub(crate) fn is_current(&self, cell: &Arc<SharedCell>) -> bool {
        lock(&self.cells)
            .get(&cell.id())
            .is_some_and(|held| Arc::ptr_eq(held, cell))
    }

    /// How many cells are held, for tests and stats.
    pub(crate) fn len(&self) -> usize {
        lock(&self.cells).len()
    }

    /// Frees `cell` after the idle TTL, unless something linked to it by
    /// then. Called when its last link goes.
    pub(crate) fn release_when_idle(self: &Arc<Self>, cell: &Arc<SharedCell>) {
        let (states, cell) = (Arc::downgrade(self), Arc::downgrade(cell));
        let idle_ttl = self.idle_ttl;
        tokio::spawn(async move {
            tokio::time::sleep(idle_ttl).await;
            let (Some(states), Some(cell)) = (states.upgrade(), cell.upgrade()) else {
                return;
            };
            let mut cells = lock(&states.cells);
            // Checked under the map's lock, which `cell` also takes: a link
            // made meanwhile finds the cell still in the map, or a new one.
            if !cell.is_linked() && cells.remove(&cell.id()).is_some() {
                cell.forget();
            }
        });
    }
}
