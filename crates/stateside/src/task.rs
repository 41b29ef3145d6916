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

use std::{
    marker::PhantomData,
    ops::{Deref, DerefMut},
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::Instant,
};

use serde::Serialize;
use stateside_wire::{Action, HandlerId};
use tokio::sync::OwnedMutexGuard;

use crate::{
    Error, StateMap,
    session::{Outcome, SessionInner},
    state_map::SessionState,
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
    pub async fn lock(&mut self) -> Guard<'_, S> {
        let session = &self.core.session;
        let mut states = Arc::clone(&session.states).lock_owned().await;
        states.ensure::<S>();
        Guard {
            states: Some(states),
            task: &self.core,
            actions: Vec::new(),
            locked_at: Instant::now(),
            state: PhantomData,
        }
    }

    /// Queues a foreground event in the session, as a client would.
    pub fn emit<A: Serialize>(&self, handler: HandlerId<A>, args: &A) -> Result<(), Error> {
        let job = self.core.session.prepare_chained(handler, args)?;
        if !self.is_cancelled() {
            self.core.session.enqueue(job);
        }
        Ok(())
    }
}

/// Exclusive access to the session's state for a background task. Dropping
/// it publishes the changes and releases the lock. Keep it short: never
/// hold it across slow I/O.
pub struct Guard<'a, S> {
    states: Option<OwnedMutexGuard<StateMap>>,
    task: &'a TaskCore,
    actions: Vec<Action>,
    locked_at: Instant,
    state: PhantomData<fn() -> S>,
}

impl<S: SessionState> Guard<'_, S> {
    pub fn state<T: SessionState>(&mut self) -> &T {
        self.states().get::<T>()
    }

    pub fn state_mut<T: SessionState>(&mut self) -> &mut T {
        self.states().get_mut::<T>()
    }

    /// Publishes the changes so far without releasing the lock (a `yield`
    /// inside Reflex's `async with self`).
    pub fn flush(&mut self) {
        let actions = std::mem::take(&mut self.actions);
        let task = self.task;
        publish(task, self.states(), actions, false);
    }

    /// A client-side effect, sent when the guard is released or flushed.
    pub fn action(&mut self, action: Action) {
        self.actions.push(action);
    }

    fn states(&mut self) -> &mut StateMap {
        self.states.as_mut().expect("present until drop")
    }
}

impl<S> Drop for Guard<'_, S> {
    fn drop(&mut self) {
        // A panic unwinding through the guard rolls back to the last release.
        let Some(mut states) = self.states.take() else {
            return;
        };
        let task = self.task;
        let actions = std::mem::take(&mut self.actions);
        publish(task, &mut states, actions, std::thread::panicking());
        let held = self.locked_at.elapsed();
        if held > task.session.config.lock_hold_warning {
            tracing::warn!(
                handler = task.handler,
                held_ms = held.as_millis() as u64,
                "background task held the session lock too long"
            );
        }
    }
}

/// Publishes a task's changes, or discards them, unless it was cancelled.
fn publish(task: &TaskCore, states: &mut StateMap, actions: Vec<Action>, discard: bool) {
    task.session.settle(
        states,
        Outcome {
            handler: task.handler,
            seq: None,
            actions,
            failure: None,
            discard,
            cancelled: Some(&task.cancelled),
        },
    );
}

impl<S: SessionState> Deref for Guard<'_, S> {
    type Target = S;

    fn deref(&self) -> &S {
        self.states
            .as_ref()
            .expect("present until drop")
            .existing::<S>()
    }
}

impl<S: SessionState> DerefMut for Guard<'_, S> {
    fn deref_mut(&mut self) -> &mut S {
        self.states().get_mut::<S>()
    }
}
