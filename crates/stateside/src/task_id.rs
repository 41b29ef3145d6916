//! How background tasks are named to handlers and tools.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A background task's id, unique within its session.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct TaskId(pub u64);

impl fmt::Display for TaskId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// A running task as [`SessionHandle::tasks`](crate::SessionHandle::tasks)
/// lists it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TaskInfo {
    /// The task's id, for a cancel.
    pub id: TaskId,
    /// The handler it runs.
    pub handler: &'static str,
}
