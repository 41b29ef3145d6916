//! An upload's files handed to the session's upload handler, which runs as
//! one of its background tasks: listed, counted against its limit, under
//! the session's lock rules, and cancelled when its request goes away.

use serde_json::Value;
use tokio::sync::oneshot;

use super::handle::SessionHandle;
use crate::{call::TaskStart, task_id::TaskId, upload::Uploads};

/// Why an upload's handler did not start.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UploadRefused {
    /// No upload handler has this name.
    #[error("no upload handler is named `{0}`")]
    UnknownHandler(String),
    /// The session runs as many tasks as it may.
    #[error("too many background tasks in this session (the limit is {limit})")]
    TooManyTasks {
        /// `Config::max_tasks_per_session`.
        limit: usize,
    },
    /// On a Redis instance that follows the session: its tasks run on the
    /// owner, and the files are here.
    #[error("this session runs on another server instance, which must take its uploads")]
    Elsewhere,
}

/// How an upload's handler ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UploadEnd {
    /// It returned `Ok`.
    Done,
    /// It returned an error.
    Failed,
    /// It was cancelled, or panicked, before it returned.
    Stopped,
}

/// A running upload handler. Dropping it before [`ended`](Self::ended)
/// returned cancels the task: its request went away, so must its partial
/// files.
pub struct UploadTask {
    id: TaskId,
    ended: oneshot::Receiver<bool>,
    finished: bool,
    session: SessionHandle,
}

impl UploadTask {
    /// The task's id.
    pub fn id(&self) -> TaskId {
        self.id
    }

    /// Waits until the handler returns.
    pub async fn ended(&mut self) -> UploadEnd {
        let end = match (&mut self.ended).await {
            Ok(true) => UploadEnd::Done,
            Ok(false) => UploadEnd::Failed,
            Err(_) => UploadEnd::Stopped,
        };
        self.finished = true;
        end
    }
}

impl Drop for UploadTask {
    fn drop(&mut self) {
        if !self.finished {
            self.session.cancel(self.id);
        }
    }
}

impl SessionHandle {
    /// Starts the upload handler registered as `handler`
    /// ([`App::upload`](crate::App::upload)) on `files`, as a background
    /// task of this session.
    ///
    /// # Errors
    ///
    /// No such upload handler, the session's task limit, or a Redis
    /// instance that only follows this session.
    pub fn upload(&self, handler: &str, files: Uploads) -> Result<UploadTask, UploadRefused> {
        if self.inner.intake.forward.is_some() {
            return Err(UploadRefused::Elsewhere);
        }
        let (name, run, ended) = self
            .inner
            .shared
            .app
            .prepare_upload(handler, files)
            .ok_or_else(|| UploadRefused::UnknownHandler(handler.to_owned()))?;
        let start = TaskStart {
            run,
            // What a restored record shows: the files are gone with the
            // request, so the task counts as lost (see `App::restore_task`).
            args: Value::Null,
            supersede_key: None,
        };
        // A start fails only at the session's task limit.
        let limit = self.inner.shared.config.max_tasks_per_session;
        let id = self
            .inner
            .spawn_task(name, start, None)
            .map_err(|_| UploadRefused::TooManyTasks { limit })?;
        Ok(UploadTask {
            id,
            ended,
            finished: false,
            session: self.clone(),
        })
    }
}
