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
    call::{Job, TaskCore, TaskStart},
    error::Error,
    store::record::StoredTask,
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
    /// Starts a task: with a new id, or with `restored`, the id it had when
    /// its session was last saved.
    pub(super) fn spawn_task(
        self: &Arc<Self>,
        handler: &'static str,
        start: TaskStart,
        restored: Option<TaskId>,
    ) -> Result<TaskId, Error> {
        let TaskStart {
            run,
            args,
            supersede_key,
        } = start;
        let id = restored.unwrap_or_else(|| self.tasks.next_id());
        let cancelled = Arc::new(AtomicBool::new(false));
        let future = run(TaskCore {
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
                        self.stop(old, task, Stop::Cancel);
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
            self.publishing.outbox().tasks.started(StoredTask {
                id: id.0,
                handler: handler.to_owned(),
                args,
            });
        }
        self.persist();
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
                session.task_ended(id, failure_notice(handler, outcome), &cancelled);
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
        start: TaskStart,
    ) {
        let failure = self
            .spawn_task(handler, start, None)
            .err()
            .map(|error| Notice::failed(handler, error.to_string()));
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

    /// A task's future returned (or panicked): the record stops listing it,
    /// and the client hears of a failure unless the task was cancelled.
    fn task_ended(self: &Arc<Self>, id: TaskId, failure: Option<Notice>, cancelled: &AtomicBool) {
        let mut outbox = self.publishing.outbox();
        let mut changed = outbox.tasks.ended(id.0);
        if let Some(notice) = failure
            && !cancelled.load(Ordering::SeqCst)
        {
            outbox.publish(Vec::new(), Vec::new(), Some(notice));
            // With Redis the save carries it to tabs on other instances.
            changed = true;
        }
        drop(outbox);
        if changed {
            self.persist();
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

    /// Stops a task at its next await, for good: the record no longer lists
    /// it. Returns whether it was running.
    pub(super) fn cancel(self: &Arc<Self>, id: TaskId) -> bool {
        let Some(task) = self.tasks.remove(id) else {
            return false;
        };
        self.stop(id, task, Stop::Cancel);
        self.persist();
        true
    }

    /// The end of a shutdown's grace: stops every task, but the record
    /// still lists them, so the session's next run decides what becomes of
    /// them (see `App::background_restartable`).
    pub(super) fn halt_tasks(&self) {
        for info in self.tasks.list() {
            if let Some(task) = self.tasks.remove(info.id) {
                self.stop(info.id, task, Stop::Halt);
            }
        }
    }

    fn stop(&self, id: TaskId, task: Running, how: Stop) {
        {
            // See `SessionInner::settle`: the flag is read under this lock.
            let mut outbox = self.publishing.outbox();
            task.cancelled.store(true, Ordering::SeqCst);
            if let Stop::Cancel = how {
                outbox.tasks.ended(id.0);
            }
        }
        if let Some(abort) = task.abort {
            abort.abort();
        }
    }
}

/// Why a task is stopped.
enum Stop {
    /// For good: by a cancel, or a superseding start.
    Cancel,
    /// By a shutdown: its session's next run may start it again.
    Halt,
}
