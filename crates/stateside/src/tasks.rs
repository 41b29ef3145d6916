//! The running background tasks of a session: spawning, listing, cancelling.
//!
//! Cancellation aborts the tokio task, so it stops at its next await with no
//! polling flag in user code. The flag that also gets set is for the one
//! place an abort cannot reach: a guard being released at that very moment,
//! which must then roll back instead of publishing.

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

use crate::{
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
    abort: AbortHandle,
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

    pub(crate) fn is_empty(&self) -> bool {
        lock(&self.running).is_empty()
    }

    fn remove(&self, id: TaskId) -> Option<Running> {
        lock(&self.running).remove(&id)
    }
}

impl SessionInner {
    pub(crate) fn spawn_task(
        self: &Arc<Self>,
        handler: &'static str,
        call: Background,
        supersede_key: Option<String>,
    ) -> TaskId {
        if let Some(key) = &supersede_key {
            let superseded: Vec<TaskId> = lock(&self.tasks.running)
                .iter()
                .filter(|(_, running)| running.supersede_key.as_ref() == Some(key))
                .map(|(&id, _)| id)
                .collect();
            for id in superseded {
                self.cancel(id);
            }
        }
        let id = TaskId(self.tasks.next_id.fetch_add(1, Ordering::Relaxed) + 1);
        let cancelled = Arc::new(AtomicBool::new(false));
        let future = call(TaskCore {
            session: Arc::clone(self),
            id,
            handler,
            cancelled: Arc::clone(&cancelled),
        });
        let session = Arc::clone(self);
        let span =
            tracing::info_span!("task", session = %self.token.log_tag(), handler, task = id.0);
        // Registered before it can run, so even an instant task is listed
        // until it ends and a cancel can always find it.
        let mut running = lock(&self.tasks.running);
        let join = tokio::spawn(
            async move {
                let outcome = AssertUnwindSafe(future).catch_unwind().await;
                session.tasks.remove(id);
                if let Some(notice) = failure_notice(handler, outcome) {
                    session.publish_notice(notice);
                }
            }
            .instrument(span),
        );
        running.insert(
            id,
            Running {
                handler,
                supersede_key,
                cancelled,
                abort: join.abort_handle(),
            },
        );
        id
    }

    /// Stops a task at its next await. Returns whether it was running.
    pub(crate) fn cancel(&self, id: TaskId) -> bool {
        let Some(running) = self.tasks.remove(id) else {
            return false;
        };
        {
            // See `SessionInner::settle`: the flag is read under this lock.
            let _outbox = lock(&self.outbox);
            running.cancelled.store(true, Ordering::SeqCst);
        }
        running.abort.abort();
        true
    }
}
