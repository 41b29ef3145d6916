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
//! panics at once with a message that says so (see the `lock` module); the
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
    sync::Arc,
};

use serde::Serialize;
use stateside_wire::{Action, HandlerId, SharedState};

use crate::{
    action::ActionRefused,
    call::{TaskCore, chained},
    census::EngineStats,
    error::Error,
    linking,
    login::{LoginRequired, UserId},
    request::RequestContext,
    section::Section,
    state_map::{SessionState, StateMap},
    task_id::TaskId,
    token::SessionToken,
};

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

    /// This task's id, as [`Cx::start`](crate::Cx::start) returned it.
    pub fn id(&self) -> TaskId {
        self.core.id
    }

    /// Waits for the session's lock, in fair FIFO order with foreground
    /// events and other tasks, and returns the latest state.
    ///
    /// # Panics
    ///
    /// If this tokio task already holds the lock, through a clone of this
    /// handle: that lock could never be granted.
    pub async fn lock(&mut self) -> Guard<'_, S> {
        let states = self.core.host.lock().acquire(self.core.handler).await;
        let mut section = Section::new(states);
        section.ensure::<S>();
        Guard {
            section: Some(section),
            task: &self.core,
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
        let job = chained(&*self.core.host, handler, args)?;
        self.core
            .host
            .enqueue_unless_cancelled(job, &self.core.cancelled);
        Ok(())
    }

    /// Live sessions and running tasks in this process, for dashboards.
    pub fn engine_stats(&self) -> EngineStats {
        self.core.host.engine_stats()
    }

    /// The request behind the tab's current connection; see
    /// [`Cx::request`](crate::Cx::request).
    pub fn request(&self) -> Option<Arc<RequestContext>> {
        self.core.host.request()
    }

    /// Who the tab is logged in as now; see [`Cx::user`](crate::Cx::user).
    ///
    /// # Errors
    ///
    /// [`LoginRequired`] when nobody is (any more: a task outlives a
    /// logout unless it asks).
    pub fn user(&self) -> Result<UserId, LoginRequired> {
        self.core.host.user().ok_or(LoginRequired)
    }

    /// This session's token; see [`Cx::token`](crate::Cx::token).
    pub fn token(&self) -> SessionToken {
        self.core.host.token()
    }
}

/// Exclusive access to the session's state for a background task. Dropping
/// it publishes the changes and releases the lock, unless a panic is
/// unwinding through it: then the changes since the last release or flush
/// roll back. Keep it short: never hold it across slow I/O.
pub struct Guard<'a, S> {
    /// `None` once rolled back.
    section: Option<Section>,
    task: &'a TaskCore,
    state: PhantomData<fn() -> S>,
}

impl<S: SessionState> Guard<'_, S> {
    /// Another state of the session, under the same lock (Reflex's
    /// `get_state`).
    pub fn state<T: SessionState>(&mut self) -> &T {
        self.section().state::<T>()
    }

    /// Another state of the session, to change.
    pub fn state_mut<T: SessionState>(&mut self) -> &mut T {
        self.section().state_mut::<T>()
    }

    /// Every state of the session, for helpers that work across states.
    pub fn states(&mut self) -> &mut StateMap {
        self.section().states()
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
        self.section = None;
    }

    /// A client-side effect, sent when the guard is released or flushed.
    ///
    /// # Errors
    ///
    /// As [`Cx::action`](crate::Cx::action)'s.
    pub fn action(&mut self, action: Action) -> Result<(), ActionRefused> {
        let scripts = self.task.host.runs_scripts();
        self.section().action(action, scripts)
    }

    /// The shared state `T` the session is linked to, locked into this
    /// guard's section; see [`Cx::shared`](crate::Cx::shared).
    ///
    /// # Errors
    ///
    /// As [`Cx::shared`](crate::Cx::shared)'s.
    pub async fn shared<T: SharedState + Send + Sync>(&mut self) -> Result<&mut T, Error> {
        let task = self.task;
        let section = self.section.as_mut().expect("present until released");
        linking::shared_mut::<T>(&*task.host, section, task.handler).await
    }

    fn section(&mut self) -> &mut Section {
        self.section.as_mut().expect("present until released")
    }
}

impl<S> Guard<'_, S> {
    /// Publishes the changes and actions so far, or discards them; either
    /// way nothing is published once the task was cancelled.
    fn settle(&mut self, discard: bool) {
        let task = self.task;
        if let Some(section) = &mut self.section {
            section.settle(&*task.host, task.handler, discard, Some(&task.cancelled));
        }
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
        self.section
            .as_ref()
            .expect("present until released")
            .own::<S>()
    }
}

impl<S: SessionState> DerefMut for Guard<'_, S> {
    fn deref_mut(&mut self) -> &mut S {
        self.section().state_mut::<S>()
    }
}
