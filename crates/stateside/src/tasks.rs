//! The running background tasks of a session: spawning, listing, cancelling.
//!
//! Cancellation aborts the tokio task, so it stops at its next await with no
//! polling flag in user code. The flag that also gets set is for the one
//! place an abort cannot reach: a guard being released at that very moment,
//! which must then roll back instead of publishing.
//!
//! A task leaves the table when it is cancelled or ends, but it counts as
//! work in its session (for expiry and shutdown) until its future is really
//! gone: a [`Slot`] inside the future does that bookkeeping when it drops,
//! whether the task returned, panicked or was aborted.

use std::{
    collections::BTreeMap,
    fmt,
    panic::AssertUnwindSafe,
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
};

use futures::FutureExt;
use serde::{Deserialize, Serialize};
use tokio::task::AbortHandle;
use tracing::Instrument;

use stateside_wire::Notice;

use crate::{
    Error,
    actor::failure_notice,
    app::Background,
    session::{SessionInner, lock},
    task::TaskCore,
};

/// A background task's id, unique within its session.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct TaskId(pub u64);

impl fmt::Display for TaskId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// A running task as [`crate::SessionHandle::tasks`] lists it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TaskInfo {
    pub id: TaskId,
    pub handler: &'static str,
}

struct Running {
    handler: &'static str,
    supersede_key: Option<String>,
    cancelled: Arc<AtomicBool>,
    /// Set right after the spawn (see `spawn_task`).
    abort: Option<AbortHandle>,
}

#[derive(Default)]
pub(crate) struct TaskTable {
    next_id: AtomicU64,
    running: Mutex<BTreeMap<TaskId, Running>>,
}

impl TaskTable {
    pub(crate) fn list(&self) -> Vec<TaskInfo> {
        lock(&self.running)
            .iter()
            .map(|(&id, running)| TaskInfo {
                id,
                handler: running.handler,
            })
            .collect()
    }

    fn remove(&self, id: TaskId) -> Option<Running> {
        lock(&self.running).remove(&id)
    }
}

/// A running task's place in its session, given back when the task's future
/// is dropped.
struct Slot {
    session: Arc<SessionInner>,
    id: TaskId,
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.session.tasks.remove(self.id);
        self.session.touch();
        self.session.task_done();
    }
}

impl SessionInner {
    pub(crate) fn spawn_task(
        self: &Arc<Self>,
        handler: &'static str,
        call: Background,
        supersede_key: Option<String>,
    ) -> Result<TaskId, Error> {
        let id = TaskId(self.tasks.next_id.fetch_add(1, Ordering::Relaxed) + 1);
        let cancelled = Arc::new(AtomicBool::new(false));
        let future = call(TaskCore {
            session: Arc::clone(self),
            id,
            handler,
            cancelled: Arc::clone(&cancelled),
        });
        {
            // Superseding and registering under one lock, so two starts
            // racing on different threads still leave one instance running.
            let mut running = lock(&self.tasks.running);
            metrics::counter!("stateside_tasks_started_total", "handler" => handler).increment(1);
            if let Some(key) = &supersede_key {
                let superseded: Vec<TaskId> = running
                    .iter()
                    .filter(|(_, task)| task.supersede_key.as_ref() == Some(key))
                    .map(|(&id, _)| id)
                    .collect();
                for old in superseded {
                    if let Some(task) = running.remove(&old) {
                        self.stop(task);
                    }
                }
            }
            let limit = self.config.max_tasks_per_session;
            if running.len() >= limit {
                return Err(Error::TooManyTasks { limit });
            }
            // Registered before it can run, so even an instant task is listed
            // until it ends and a cancel can always find it.
            running.insert(
                id,
                Running {
                    handler,
                    supersede_key,
                    cancelled: Arc::clone(&cancelled),
                    abort: None,
                },
            );
        }
        self.task_added();
        let slot = Slot {
            session: Arc::clone(self),
            id,
        };
        let session = Arc::clone(self);
        let span =
            tracing::info_span!("task", session = %self.token.log_tag(), handler, task = id.0);
        // Spawned with no lock held: a runtime that is shutting down drops
        // the future, and so the slot, inside `spawn`.
        let join = tokio::spawn(
            async move {
                let _slot = slot;
                let outcome = AssertUnwindSafe(future).catch_unwind().await;
                if let Some(notice) = failure_notice(handler, outcome) {
                    session.publish_task_failure(notice, &cancelled);
                }
            }
            .instrument(span),
        );
        match lock(&self.tasks.running).get_mut(&id) {
            Some(task) => task.abort = Some(join.abort_handle()),
            // Cancelled before it got its handle (or already over): stop it.
            None => join.abort(),
        }
        Ok(id)
    }

    /// Starts a task for an event (a client's, with its seq, or a chained
    /// one) and acknowledges it, or tells the client why it did not start.
    pub(crate) fn start_for_event(
        self: &Arc<Self>,
        seq: Option<u64>,
        handler: &'static str,
        call: Background,
        supersede_key: Option<String>,
    ) {
        let failure = self
            .spawn_task(handler, call, supersede_key)
            .err()
            .map(|error| Notice {
                handler: handler.to_owned(),
                message: error.to_string(),
            });
        match (seq, failure) {
            (Some(seq), failure) => self.publish_applied(seq, failure),
            (None, Some(failure)) => {
                lock(&self.outbox).publish(Vec::new(), Vec::new(), Some(failure))
            }
            (None, None) => {}
        }
    }

    /// Stops a task at its next await. Returns whether it was running.
    pub(crate) fn cancel(&self, id: TaskId) -> bool {
        let Some(task) = self.tasks.remove(id) else {
            return false;
        };
        self.stop(task);
        true
    }

    fn stop(&self, task: Running) {
        {
            // See `SessionInner::settle`: the flag is read under this lock.
            let _outbox = lock(&self.outbox);
            task.cancelled.store(true, Ordering::SeqCst);
        }
        if let Some(abort) = task.abort {
            abort.abort();
        }
    }
}
