//! The running background tasks of a session, by id.
//!
//! Cancellation aborts the tokio task, so it stops at its next await with no
//! polling flag in user code. The flag that also gets set is for the one
//! place an abort cannot reach: a guard being released at that very moment,
//! which must then roll back instead of publishing.

use std::{
    collections::BTreeMap,
    sync::{
        Arc, Mutex, MutexGuard,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
};

use tokio::task::AbortHandle;

use crate::{
    census::Census,
    mutex::lock,
    task_id::{TaskId, TaskInfo},
};

pub(super) struct Running {
    pub(super) handler: &'static str,
    pub(super) supersede_key: Option<String>,
    pub(super) cancelled: Arc<AtomicBool>,
    /// Set right after the spawn (see `SessionInner::spawn_task`).
    pub(super) abort: Option<AbortHandle>,
}

pub(super) struct TaskTable {
    next_id: AtomicU64,
    running: Mutex<Tasks>,
}

/// The table itself, locked. It counts its tasks in the engine's census as
/// they come and go, so the census can never disagree with the tables.
pub(super) struct Tasks {
    by_id: BTreeMap<TaskId, Running>,
    census: Arc<Census>,
}

impl TaskTable {
    /// A table whose ids start after `last`, the highest one its session
    /// gave out before (see `StoredSession::last_task`).
    pub(super) fn new(census: Arc<Census>, last: u64) -> Self {
        Self {
            next_id: AtomicU64::new(last),
            running: Mutex::new(Tasks {
                by_id: BTreeMap::new(),
                census,
            }),
        }
    }

    pub(super) fn next_id(&self) -> TaskId {
        TaskId(self.next_id.fetch_add(1, Ordering::Relaxed) + 1)
    }

    pub(super) fn lock(&self) -> MutexGuard<'_, Tasks> {
        lock(&self.running)
    }

    pub(super) fn list(&self) -> Vec<TaskInfo> {
        self.lock()
            .by_id
            .iter()
            .map(|(&id, running)| TaskInfo {
                id,
                handler: running.handler,
            })
            .collect()
    }

    pub(super) fn remove(&self, id: TaskId) -> Option<Running> {
        self.lock().remove(id)
    }
}

impl Tasks {
    pub(super) fn len(&self) -> usize {
        self.by_id.len()
    }

    pub(super) fn insert(&mut self, id: TaskId, running: Running) {
        self.by_id.insert(id, running);
        self.census.task_added();
    }

    pub(super) fn remove(&mut self, id: TaskId) -> Option<Running> {
        let running = self.by_id.remove(&id)?;
        self.census.task_removed();
        Some(running)
    }

    pub(super) fn get_mut(&mut self, id: TaskId) -> Option<&mut Running> {
        self.by_id.get_mut(&id)
    }

    /// The tasks started with `key` (see `App::background_superseding`).
    pub(super) fn with_key(&self, key: &str) -> Vec<TaskId> {
        self.by_id
            .iter()
            .filter(|(_, task)| task.supersede_key.as_deref() == Some(key))
            .map(|(&id, _)| id)
            .collect()
    }
}
