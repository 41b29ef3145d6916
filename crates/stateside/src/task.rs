//! Background tasks: a handle instead of the state, and a guard that is the
//! only way to change it.
//!
//! This is Reflex's `async with self`, with the rules moved into types:
//! outside a [`Guard`] there is no `&mut` to the state at all, and because
//! [`Task::lock`] borrows the handle mutably, locking twice through one
//! handle does not compile:
//!
//! ```compile_fail,E0499
//! # use stateside::{Task, State};
//! # #[derive(Clone, Default, serde::Serialize, serde::Deserialize)] struct S;
//! # impl State for S { const NAME: &'static str = "s"; }
//! async fn nested(mut task: Task<S>) {
//!     let outer = task.lock().await;
//!     let inner = task.lock().await; // error: `task` is already borrowed
//! #   drop((outer, inner));
//! }
//! ```
//!
//! Locking again through a *clone* while the guard is alive compiles, but
//! panics at once with a message that says so (see [`crate::lock`]); the
//! task then ends with an error notice and its section rolls back.
//!
//! A guard publishes when it is released, however the task goes on. So a
//! task that returns `Err` from inside a lock section (`?` with a guard
//! alive) has its section published on the way out, as Reflex's
//! `async with self` does. Deferring the release until the task's result is
//! known would stall every waiter behind it. For all-or-nothing sections
//! there is [`Task::update`], and [`Guard::rollback`].

use std::{
    marker::PhantomData,
    ops::{Deref, DerefMut},
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
};

use serde::Serialize;
use stateside_wire::{Action, HandlerId};

use crate::{
    Error, StateMap, lock::Held, session::SessionInner, settle::Outcome, state_map::SessionState,
    tasks::TaskId,
};

/// What identifies one running background task.
pub(crate) struct TaskCore {
    pub(crate) session: Arc<SessionInner>,
    pub(crate) id: TaskId,
    pub(crate) handler: &'static str,
    pub(crate) cancelled: Arc<AtomicBool>,
}

/// A background task's handle on its session. Cheap to clone: clones share
/// the task's identity, so several sub-futures of one task can each lock in
/// turn (Reflex's `racy_task`).
pub struct Task<S> {
    core: Arc<TaskCore>,
    state: PhantomData<fn() -> S>,
}

impl<S> Clone for Task<S> {
    fn clone(&self) -> Self {
        Self {
            core: Arc::clone(&self.core),
            state: PhantomData,
        }
    }
}

impl<S: SessionState> Task<S> {
    pub(crate) fn new(core: TaskCore) -> Self {
        Self {
            core: Arc::new(core),
            state: PhantomData,
        }
    }

    pub fn id(&self) -> TaskId {
        self.core.id
    }

    /// Whether the task was cancelled. A cancelled task also stops at its
    /// next await on its own; this is for loops with no await in them.
    pub fn is_cancelled(&self) -> bool {
        self.core.cancelled.load(Ordering::SeqCst)
    }

    /// Waits for the session's lock, in fair FIFO order with foreground
    /// events and other tasks, and returns the latest state.
    ///
    /// # Panics
    ///
    /// If this tokio task already holds the lock, through a clone of this
    /// handle: that lock could never be granted.
    pub async fn lock(&mut self) -> Guard<'_, S> {
        let mut states = self.core.session.lock.acquire(self.core.handler).await;
        states.ensure::<S>();
        Guard {
            states: Some(states),
            task: &self.core,
            actions: Vec::new(),
            state: PhantomData,
        }
    }

    /// One all-or-nothing lock section: `section`'s changes are published
    /// if it returns `Ok` and rolled back if it returns `Err`, which is
    /// handed back. Its client actions follow the same rule.
    pub async fn update<R, E>(
        &mut self,
        section: impl FnOnce(&mut Guard<'_, S>) -> Result<R, E>,
    ) -> Result<R, E> {
        let mut guard = self.lock().await;
        let result = section(&mut guard);
        if result.is_err() {
            guard.rollback();
        }
        result
    }

    /// Queues an event in the session's foreground line, behind what is
    /// already waiting, as a handler's chained event would be. A background
    /// handler starts when its turn comes. Nothing is queued once the task
    /// is cancelled.
    pub fn emit<A: Serialize>(&self, handler: HandlerId<A>, args: &A) -> Result<(), Error> {
        let job = self.core.session.prepare_chained(handler, args)?;
        self.core
            .session
            .enqueue_unless_cancelled(job, &self.core.cancelled);
        Ok(())
    }
}

/// Exclusive access to the session's state for a background task. Dropping
/// it publishes the changes and releases the lock, unless a panic is
/// unwinding through it: then the changes since the last release or flush
/// roll back. Keep it short: never hold it across slow I/O.
pub struct Guard<'a, S> {
    states: Option<Held>,
    task: &'a TaskCore,
    actions: Vec<Action>,
    state: PhantomData<fn() -> S>,
}

impl<S: SessionState> Guard<'_, S> {
    /// Another state of the session, under the same lock (Reflex's
    /// `get_state`).
    pub fn state<T: SessionState>(&mut self) -> &T {
        self.states().get::<T>()
    }

    pub fn state_mut<T: SessionState>(&mut self) -> &mut T {
        self.states().get_mut::<T>()
    }

    /// Publishes the changes so far without releasing the lock (a `yield`
    /// inside Reflex's `async with self`).
    pub fn flush(&mut self) {
        self.settle(false);
    }

    /// Releases the lock and undoes the changes (and drops the actions)
    /// since the guard was taken or last flushed.
    pub fn rollback(mut self) {
        self.settle(true);
        self.states = None;
    }

    /// A client-side effect, sent when the guard is released or flushed.
    pub fn action(&mut self, action: Action) {
        self.actions.push(action);
    }

    /// Every state of the session, for helpers that work across states.
    pub fn states(&mut self) -> &mut StateMap {
        self.states.as_mut().expect("present until released")
    }
}

impl<S> Guard<'_, S> {
    /// Publishes the changes and actions so far, or discards them; either
    /// way nothing is published once the task was cancelled.
    fn settle(&mut self, discard: bool) {
        let Some(states) = self.states.as_mut() else {
            return;
        };
        self.task.session.settle(
            states,
            Outcome {
                handler: self.task.handler,
                seq: None,
                actions: std::mem::take(&mut self.actions),
                failure: None,
                discard,
                cancelled: Some(&self.task.cancelled),
            },
        );
    }
}

impl<S> Drop for Guard<'_, S> {
    fn drop(&mut self) {
        self.settle(std::thread::panicking());
    }
}

impl<S: SessionState> Deref for Guard<'_, S> {
    type Target = S;

    fn deref(&self) -> &S {
        self.states
            .as_ref()
            .expect("present until released")
            .existing::<S>()
    }
}

impl<S: SessionState> DerefMut for Guard<'_, S> {
    fn deref_mut(&mut self) -> &mut S {
        self.states().get_mut::<S>()
    }
}
