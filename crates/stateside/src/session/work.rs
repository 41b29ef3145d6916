//! The work in a session, counted for the queue limit, expiry and shutdown.
//!
//! Two counters track it. `queued` counts foreground jobs waiting, which is
//! what the queue limit bounds. `busy` counts those plus running tasks, in
//! one number: a job that starts a task, or a task that queues a job, adds
//! the new unit before it removes its own, so `busy` can never read zero
//! while work is passing from one kind to the other. Expiry and shutdown
//! trust it for that, and a shutdown's drain is woken when it reaches zero.

use std::sync::{
    Arc, Mutex,
    atomic::{AtomicUsize, Ordering},
};

use tokio::{sync::mpsc, task::AbortHandle, time::Instant};

use crate::{call::Job, census::Census, mutex::lock};

pub(super) struct Work {
    /// The actor's queue (see `actor`).
    /// Boxed: the channel allocates its slots 32 at a time, the first
    /// time a session gets an event, and a `Job` is about a hundred bytes.
    mailbox: mpsc::UnboundedSender<Box<Job>>,
    actor: AbortHandle,
    /// Jobs in the mailbox; with held events, what `queue_limit` bounds.
    queued: AtomicUsize,
    /// Queued jobs plus running tasks (see the module docs).
    busy: AtomicUsize,
    /// The idle clock: when anything last happened.
    last_active: Mutex<Instant>,
    census: Arc<Census>,
}

impl Work {
    pub(super) fn new(
        mailbox: mpsc::UnboundedSender<Box<Job>>,
        actor: AbortHandle,
        census: Arc<Census>,
    ) -> Self {
        Self {
            mailbox,
            actor,
            queued: AtomicUsize::new(0),
            busy: AtomicUsize::new(0),
            last_active: Mutex::new(Instant::now()),
            census,
        }
    }

    pub(super) fn enqueue(&self, job: Job) {
        self.job_added();
        // The actor holds only a weak reference and lives while we do.
        let _ = self.mailbox.send(Box::new(job));
    }

    /// Drops the running foreground handler and everything queued.
    pub(super) fn abort(&self) {
        self.actor.abort();
    }

    pub(super) fn queued(&self) -> usize {
        self.queued.load(Ordering::Relaxed)
    }

    pub(super) fn is_quiet(&self) -> bool {
        self.busy.load(Ordering::SeqCst) == 0
    }

    pub(super) fn job_added(&self) {
        self.busy.fetch_add(1, Ordering::SeqCst);
        self.queued.fetch_add(1, Ordering::SeqCst);
    }

    pub(super) fn job_done(&self) {
        self.queued.fetch_sub(1, Ordering::SeqCst);
        self.unit_done();
    }

    pub(super) fn task_added(&self) {
        self.busy.fetch_add(1, Ordering::SeqCst);
    }

    pub(super) fn task_done(&self) {
        self.unit_done();
    }

    fn unit_done(&self) {
        if self.busy.fetch_sub(1, Ordering::SeqCst) == 1 {
            self.census.went_quiet();
        }
    }

    /// Restarts the idle clock: on every event and subscription, and when a
    /// job or task ends, so a session is idle only once nothing has happened
    /// for the whole TTL.
    pub(super) fn touch(&self) {
        *lock(&self.last_active) = Instant::now();
    }

    pub(super) fn last_active(&self) -> Instant {
        *lock(&self.last_active)
    }
}
