//! The record a store keeps of a session.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::StoreError;

/// A session as a store keeps it: what its client was shown, the
/// `#[backend]` fields its client was not, which of its client's events
/// have been applied (all up to `applied_through`, and those in
/// `applied_ahead`: background starts that overtook a slow event), and the
/// background tasks that were running. Fields marked `#[serde(skip)]` are
/// not part of it and come back as their defaults; computed fields are in
/// the document (a follower's snapshots send them) but recomputed, never
/// read back, when a session is restored.
///
/// Generic over the document and the task list so the outbox can write one
/// by reference.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct StoredSession<Document = Map<String, Value>, Tasks = Vec<StoredTask>> {
    pub(crate) version: u64,
    pub(crate) applied_through: u64,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) applied_ahead: Vec<u64>,
    pub(crate) document: Document,
    /// By state name, the `#[backend]` fields of the states that have them.
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub(crate) backend: Map<String, Value>,
    /// The highest task id the session has given out, so a restored
    /// session never gives one out twice.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub(crate) last_task: u64,
    #[serde(default)]
    pub(crate) tasks: Tasks,
}

/// A background task that was running when the record was written: enough
/// for the app to start it again or to put the state right (see
/// `App::restore_task`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct StoredTask {
    pub(crate) id: u64,
    pub(crate) handler: String,
    pub(crate) args: Value,
}

fn is_zero(value: &u64) -> bool {
    *value == 0
}

impl StoredSession {
    pub(crate) fn decode(bytes: &[u8]) -> Result<Self, StoreError> {
        serde_json::from_slice(bytes).map_err(StoreError::new)
    }
}

/// The tasks a session's record lists as running: a task is added when it
/// starts and removed when it ends or is cancelled, but not when a shutdown
/// stops it, so the record of a stopped server still lists it.
#[derive(Debug, Default)]
pub(crate) struct TaskLedger {
    pub(crate) last: u64,
    pub(crate) running: Vec<StoredTask>,
}

impl TaskLedger {
    pub(crate) fn started(&mut self, task: StoredTask) {
        self.last = self.last.max(task.id);
        self.ended(task.id);
        self.running.push(task);
    }

    /// Returns whether the task was listed.
    pub(crate) fn ended(&mut self, id: u64) -> bool {
        let before = self.running.len();
        self.running.retain(|task| task.id != id);
        self.running.len() != before
    }
}
