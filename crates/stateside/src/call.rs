//! The contract between a session and the handler code it runs.
//!
//! A [`Call`] is a decoded event: a boxed handler waiting for its context.
//! The contexts ([`CxCore`] for a foreground handler, [`TaskCore`] for a
//! task) reach their session only through [`Host`], which the session
//! implements. These types refer to each other (a context queues jobs, a
//! job carries a call, a call takes a context), so they live together here,
//! below both the session and the public handler API, and neither of those
//! needs the other.

use std::{
    future::Future,
    pin::Pin,
    sync::{Arc, Weak, atomic::AtomicBool},
};

use serde::Serialize;
use serde_json::Value;
use stateside_wire::HandlerId;
use tokio::sync::oneshot;

use crate::{
    census::EngineStats,
    error::Error,
    lock::SessionLock,
    login::UserId,
    request::RequestContext,
    section::{Section, Settle},
    shared::{Linked, SessionLinks, SharedStates},
    task_id::{TaskId, TaskInfo},
    token::SessionToken,
};

pub(crate) type HandlerFuture = Pin<Box<dyn Future<Output = anyhow::Result<()>> + Send>>;

pub(crate) type Foreground = Box<dyn FnOnce(CxCore) -> HandlerFuture + Send>;
pub(crate) type Background = Box<dyn FnOnce(TaskCore) -> HandlerFuture + Send>;

/// A decoded event, ready for the queue (foreground) or to spawn (background).
pub(crate) enum Call {
    Foreground(Foreground),
    Background(TaskStart),
}

/// A background task ready to spawn.
pub(crate) struct TaskStart {
    pub(crate) run: Background,
    /// The arguments as the event carried them: the session's record keeps
    /// them while the task runs, so a restore can start it again or tell
    /// its `on_lost` hook what it was doing.
    pub(crate) args: Value,
    /// For a superseding task: starting it cancels running tasks with the
    /// same key (its handler and arguments).
    pub(crate) supersede_key: Option<String>,
}

pub(crate) struct Prepared {
    pub(crate) handler: &'static str,
    pub(crate) call: Call,
}

/// A foreground unit of work: a client event (with its seq) or a chained one.
pub(crate) struct Job {
    pub(crate) seq: Option<u64>,
    pub(crate) prepared: Prepared,
    /// Runs before the events already waiting, not behind them: the steps
    /// of a page navigation, which belong to the event that chained them.
    pub(crate) next: bool,
}

/// What running handler code may ask of its session.
pub(crate) trait Host: Settle + Send + Sync {
    fn lock(&self) -> &SessionLock;
    /// Decodes an event for `handler`, as the session's app does a client's.
    fn prepare(&self, handler: &str, args: Value) -> Result<Prepared, Error>;
    /// Starts a background task now.
    fn start(&self, handler: &'static str, start: TaskStart) -> Result<TaskId, Error>;
    /// Queues a job for a task, unless the task was cancelled, decided so
    /// that nothing a task sends gets through once its cancel has returned.
    fn enqueue_unless_cancelled(&self, job: Job, cancelled: &AtomicBool);
    fn tasks(&self) -> Vec<TaskInfo>;
    fn cancel(&self, id: TaskId) -> bool;
    fn engine_stats(&self) -> EngineStats;
    /// The session's token.
    fn token(&self) -> SessionToken;
    /// The request behind the tab's current connection.
    fn request(&self) -> Option<Arc<RequestContext>>;
    /// Who that request is logged in as, by the app's authenticator.
    fn user(&self) -> Option<UserId>;
    /// Whether the app lets handlers send `RunScript`.
    fn runs_scripts(&self) -> bool;
    /// The engine's shared states.
    fn shared_states(&self) -> &Arc<SharedStates>;
    /// The shared states this session is linked to.
    fn links(&self) -> &SessionLinks;
    /// This session, as its shared states hold it.
    fn linked(&self) -> Weak<dyn Linked>;
}

/// A chained event from a handler or task, decoded like a client's.
pub(crate) fn chained<A: Serialize>(
    host: &dyn Host,
    handler: HandlerId<A>,
    args: &A,
) -> Result<Job, Error> {
    let args = serde_json::to_value(args).map_err(|error| Error::BadArgs {
        handler: handler.name().to_owned(),
        reason: error.to_string(),
    })?;
    let prepared = host.prepare(handler.name(), args)?;
    Ok(Job {
        seq: None,
        prepared,
        next: false,
    })
}

/// What a finished foreground handler hands back to the actor.
pub(crate) struct Finished {
    pub(crate) section: Section,
    pub(crate) chained: Vec<Job>,
    /// How many of `chained` were emitted before the last flush, and so
    /// survive a failure.
    pub(crate) flushed: usize,
}

/// The untyped part of [`Cx`](crate::Cx). When it drops, which happens when
/// the handler returns, fails or panics, it sends the lock back to the
/// actor, which then commits or rolls back: the context itself cannot know
/// how the handler ended.
pub(crate) struct CxCore {
    pub(crate) section: Option<Section>,
    pub(crate) host: Box<dyn Host>,
    pub(crate) handler: &'static str,
    pub(crate) chained: Vec<Job>,
    pub(crate) flushed: usize,
    done: Option<oneshot::Sender<Finished>>,
}

impl CxCore {
    pub(crate) fn new(
        section: Section,
        host: Box<dyn Host>,
        handler: &'static str,
        done: oneshot::Sender<Finished>,
    ) -> Self {
        Self {
            section: Some(section),
            host,
            handler,
            chained: Vec::new(),
            flushed: 0,
            done: Some(done),
        }
    }

    pub(crate) fn section(&mut self) -> &mut Section {
        self.section.as_mut().expect("present until drop")
    }

    /// The session, the section and the handler's name at once, for the
    /// shared-state calls (`linking`), which need all three.
    pub(crate) fn linking_parts(&mut self) -> (&dyn Host, &mut Section, &'static str) {
        let section = self.section.as_mut().expect("present until drop");
        (&*self.host, section, self.handler)
    }
}

impl Drop for CxCore {
    fn drop(&mut self) {
        if let (Some(section), Some(done)) = (self.section.take(), self.done.take()) {
            let _ = done.send(Finished {
                section,
                chained: std::mem::take(&mut self.chained),
                flushed: self.flushed,
            });
        }
    }
}

/// What identifies one running background task.
pub(crate) struct TaskCore {
    pub(crate) host: Box<dyn Host>,
    pub(crate) id: TaskId,
    pub(crate) handler: &'static str,
    pub(crate) cancelled: Arc<AtomicBool>,
}
