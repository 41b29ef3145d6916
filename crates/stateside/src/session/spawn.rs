//! Starting, cancelling and stopping background tasks.
//!
//! A task leaves the table when it is cancelled or ends, but it counts as
//! work in its session (for expiry and shutdown) until its future is really
//! gone: a [`Slot`] inside the future does that bookkeeping when it drops,
//! whether the task returned, panicked or was aborted.

use std::{
    panic::AssertUnwindSafe,
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
};

use futures::FutureExt;
use stateside_wire::Notice;
use tracing::Instrument;

use super::{
    actor::failure_notice, handle::SessionHandle, inner::SessionInner, task_table::Running,
};
use crate::{
    call::{Background, Job, TaskCore},
    error::Error,
    task_id::TaskId,
};

/// A running task's place in its session, given back when the task's future
/// is dropped.
struct Slot {
    session: Arc<SessionInner>,
    id: TaskId,
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.session.tasks.remove(self.id);
        self.session.work.touch();
        self.session.work.task_done();
    }
}

impl SessionInner {
    pub(super) fn spawn_task(
        self: &Arc<Self>,
        handler: &'static str,
        call: Background,
        supersede_key: Option<String>,
    ) -> Result<TaskId, Error> {
        let id = self.tasks.next_id();
        let cancelled = Arc::new(AtomicBool::new(false));
        let future = call(TaskCore {
            host: Box::new(SessionHandle::from(Arc::clone(self))),
            id,
            handler,
            cancelled: Arc::clone(&cancelled),
        });
        {
            // Superseding and registering under one lock, so two starts
            // racing on different threads still leave one instance running.
            let mut running = self.tasks.lock();
            metrics::counter!("stateside_tasks_started_total", "handler" => handler).increment(1);
            if let Some(key) = &supersede_key {
                for old in running.with_key(key) {
                    if let Some(task) = running.remove(old) {
                        self.stop(task);
                    }
                }
            }
            let limit = self.shared.config.max_tasks_per_session;
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
        self.work.task_added();
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
        match self.tasks.lock().get_mut(id) {
            Some(task) => task.abort = Some(join.abort_handle()),
            // Cancelled before it got its handle (or already over): stop it.
            None => join.abort(),
        }
        Ok(id)
    }

    /// Starts a task for an event (a client's, with its seq, or a chained
    /// one) and acknowledges it, or tells the client why it did not start.
    pub(super) fn start_for_event(
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
                self.publishing
                    .outbox()
                    .publish(Vec::new(), Vec::new(), Some(failure))
            }
            (None, None) => {}
        }
    }

    /// Queues a job for a task, unless the task was cancelled: decided under
    /// the outbox lock, like [`settle`](Self::settle), so that nothing a
    /// task sends gets through once its cancel has returned.
    pub(super) fn enqueue_unless_cancelled(&self, job: Job, cancelled: &AtomicBool) {
        let _outbox = self.publishing.outbox();
        if !cancelled.load(Ordering::SeqCst) {
            self.work.enqueue(job);
        }
    }

    /// Stops a task at its next await. Returns whether it was running.
    pub(super) fn cancel(&self, id: TaskId) -> bool {
        let Some(task) = self.tasks.remove(id) else {
            return false;
        };
        self.stop(task);
        true
    }

    fn stop(&self, task: Running) {
        {
            // See `SessionInner::settle`: the flag is read under this lock.
            let _outbox = self.publishing.outbox();
            task.cancelled.store(true, Ordering::SeqCst);
        }
        if let Some(abort) = task.abort {
            abort.abort();
        }
    }
}
