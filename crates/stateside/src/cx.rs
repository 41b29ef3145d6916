//! The context of a foreground handler: the session's state under its lock,
//! plus the ways a handler talks back (flush, chain, client actions).

use std::{
    marker::PhantomData,
    ops::{Deref, DerefMut},
    sync::Arc,
};

use serde::Serialize;
use stateside_wire::{Action, HandlerId};
use tokio::sync::oneshot;

use crate::{
    Error, StateMap, TaskId, TaskInfo, actor::Job, app::Call, lock::Held, session::SessionInner,
    settle::Outcome, state_map::SessionState,
};

/// What a finished handler hands back to the actor.
pub(crate) struct Finished {
    pub(crate) states: Held,
    pub(crate) actions: Vec<Action>,
    pub(crate) chained: Vec<Job>,
    /// How many of `chained` were emitted before the last flush, and so
    /// survive a failure.
    pub(crate) flushed: usize,
}

/// The untyped part of [`Cx`]. When it drops, which happens when the
/// handler returns, fails or panics, it sends the lock back to the actor,
/// which then commits or rolls back: the context itself cannot know how the
/// handler ended.
pub(crate) struct CxCore {
    states: Option<Held>,
    session: Arc<SessionInner>,
    handler: &'static str,
    actions: Vec<Action>,
    chained: Vec<Job>,
    flushed: usize,
    done: Option<oneshot::Sender<Finished>>,
}

impl CxCore {
    pub(crate) fn new(
        states: Held,
        session: Arc<SessionInner>,
        handler: &'static str,
        done: oneshot::Sender<Finished>,
    ) -> Self {
        Self {
            states: Some(states),
            session,
            handler,
            actions: Vec::new(),
            chained: Vec::new(),
            flushed: 0,
            done: Some(done),
        }
    }

    fn states(&mut self) -> &mut StateMap {
        self.states.as_mut().expect("present until drop")
    }
}

impl Drop for CxCore {
    fn drop(&mut self) {
        if let (Some(states), Some(done)) = (self.states.take(), self.done.take()) {
            let _ = done.send(Finished {
                states,
                actions: std::mem::take(&mut self.actions),
                chained: std::mem::take(&mut self.chained),
                flushed: self.flushed,
            });
        }
    }
}

/// A foreground handler's view of its session. It dereferences to the
/// handler's own state `S`; other states of the session are one call away.
///
/// It owns the session's lock for as long as the handler runs, so the state
/// cannot change under it. Changes are published when the handler returns
/// `Ok`, or earlier with [`flush`](Self::flush). On `Err` or a panic
/// everything since the last flush is undone: state changes, chained events
/// and client actions. Tasks it [`start`](Self::start)ed keep running.
pub struct Cx<S> {
    core: CxCore,
    state: PhantomData<fn() -> S>,
}

impl<S: SessionState> Cx<S> {
    pub(crate) fn new(mut core: CxCore) -> Self {
        core.states().ensure::<S>();
        Self {
            core,
            state: PhantomData,
        }
    }

    /// Another state of the same session, under the same lock (Reflex's
    /// `get_state`).
    pub fn state<T: SessionState>(&mut self) -> &T {
        self.core.states().get::<T>()
    }

    pub fn state_mut<T: SessionState>(&mut self) -> &mut T {
        self.core.states().get_mut::<T>()
    }

    /// Every state of the session, for helpers that work across states.
    pub fn states(&mut self) -> &mut StateMap {
        self.core.states()
    }

    /// Publishes the changes so far at once, so the page can show a spinner
    /// before the slow part. They become the point a failure rolls back to.
    pub fn flush(&mut self) {
        self.core.flushed = self.core.chained.len();
        let actions = std::mem::take(&mut self.core.actions);
        let session = Arc::clone(&self.core.session);
        let handler = self.core.handler;
        session.settle(
            self.core.states(),
            Outcome {
                handler,
                seq: None,
                actions,
                failure: None,
                discard: false,
                cancelled: None,
            },
        );
    }

    /// Queues another event to run after this handler, behind any events
    /// already waiting. A background handler starts when its turn comes.
    pub fn emit<A: Serialize>(&mut self, handler: HandlerId<A>, args: &A) -> Result<(), Error> {
        let job = self.core.session.prepare_chained(handler, args)?;
        self.core.chained.push(job);
        Ok(())
    }

    /// Starts a background task now, without waiting for this handler to
    /// finish, and returns its id (for a later [`cancel`](Self::cancel)).
    pub fn start<A: Serialize>(
        &mut self,
        handler: HandlerId<A>,
        args: &A,
    ) -> Result<TaskId, Error> {
        let job = self.core.session.prepare_chained(handler, args)?;
        match job.prepared.call {
            Call::Background(call) => {
                self.core
                    .session
                    .spawn_task(job.prepared.handler, call, job.prepared.supersede_key)
            }
            Call::Foreground(_) => Err(Error::NotBackground(handler.name().to_owned())),
        }
    }

    /// A client-side effect, sent with this handler's next update.
    pub fn action(&mut self, action: Action) {
        self.core.actions.push(action);
    }

    pub fn tasks(&self) -> Vec<TaskInfo> {
        self.core.session.tasks.list()
    }

    /// Cancels a background task of this session; see [`crate::Task`].
    pub fn cancel(&self, id: TaskId) -> bool {
        self.core.session.cancel(id)
    }
}

impl<S: SessionState> Deref for Cx<S> {
    type Target = S;

    fn deref(&self) -> &S {
        self.core
            .states
            .as_ref()
            .expect("present until drop")
            .existing::<S>()
    }
}

impl<S: SessionState> DerefMut for Cx<S> {
    fn deref_mut(&mut self) -> &mut S {
        self.core.states().get_mut::<S>()
    }
}
