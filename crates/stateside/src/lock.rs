//! The session lock: one queue shared by foreground events, background task
//! guards and readers, plus a note of who holds it.
//!
//! The queue is a `tokio::sync::Mutex` because it hands the lock to waiters
//! strictly in the order they asked. Foreground events and tasks wait in the
//! same line, so a task locking in a tight loop can never starve the
//! foreground: each waits only for those who asked before it.
//!
//! The holder's tokio task id turns a nested lock into an error instead of a
//! deadlock. [`crate::Task::lock`] borrows its handle mutably, so nesting
//! through one handle does not compile, but a clone of the handle can still
//! ask from the task that holds the guard, and would wait for itself forever.
//! Reflex makes the same check with `asyncio.current_task()`.

use std::{
    ops::{Deref, DerefMut},
    sync::{Arc, Mutex},
    time::Duration,
};

use tokio::{
    sync::OwnedMutexGuard,
    task::{self, Id},
    time::Instant,
};

use crate::{mutex::lock, state_map::StateMap};

pub(crate) struct SessionLock {
    states: Arc<tokio::sync::Mutex<StateMap>>,
    /// The tokio task holding the lock. Written only by the holder: set
    /// right after it is granted, cleared right before it is released.
    holder: Arc<Mutex<Option<Id>>>,
    /// A lock held longer than this logs a warning naming the handler.
    warn_after: Duration,
}

impl SessionLock {
    pub(crate) fn new(warn_after: Duration, states: StateMap) -> Self {
        Self {
            states: Arc::new(tokio::sync::Mutex::new(states)),
            holder: Arc::default(),
            warn_after,
        }
    }

    /// Waits for the lock in FIFO order. `handler` names the holder in the
    /// hold-time warning and in the nested-lock panic.
    ///
    /// # Panics
    ///
    /// If the calling tokio task already holds the lock. Sub-futures joined
    /// inside one task share its id, so this also fires when one of them
    /// holds a guard across an await while a sibling asks: guards belong
    /// between awaits, never across them.
    pub(crate) async fn acquire(&self, handler: &'static str) -> Held {
        let me = task::try_id();
        if me.is_some() && *lock(&self.holder) == me {
            panic!(
                "`{handler}` asked for the session lock while its own tokio task already \
                 holds it; that would wait forever. Release the guard before locking again \
                 (a nested lock through a clone of the Task)"
            );
        }
        let asked = Instant::now();
        let states = Arc::clone(&self.states).lock_owned().await;
        metrics::histogram!("stateside_lock_wait_seconds", "handler" => handler)
            .record(asked.elapsed().as_secs_f64());
        *lock(&self.holder) = me;
        Held {
            states,
            holder: Arc::clone(&self.holder),
            handler,
            since: Instant::now(),
            warn_after: self.warn_after,
        }
    }
}

/// The granted lock. Dropping it releases the lock.
pub(crate) struct Held {
    states: OwnedMutexGuard<StateMap>,
    holder: Arc<Mutex<Option<Id>>>,
    handler: &'static str,
    since: Instant,
    warn_after: Duration,
}

impl Drop for Held {
    fn drop(&mut self) {
        // Every normal path settles before it lets go. Changes still pending
        // here were abandoned (a handler aborted at shutdown), and must not
        // ride along with the next holder's patch.
        self.states.rollback();
        *lock(&self.holder) = None;
        let held = self.since.elapsed();
        metrics::histogram!("stateside_lock_hold_seconds", "handler" => self.handler)
            .record(held.as_secs_f64());
        if held > self.warn_after {
            tracing::warn!(
                handler = self.handler,
                held_ms = held.as_millis() as u64,
                "session lock held too long; move slow work out of the lock section"
            );
        }
    }
}

impl Deref for Held {
    type Target = StateMap;

    fn deref(&self) -> &StateMap {
        &self.states
    }
}

impl DerefMut for Held {
    fn deref_mut(&mut self) -> &mut StateMap {
        &mut self.states
    }
}
