//! The work in a session, counted for the queue limit, expiry and shutdown.
//!
//! Two counters track it. `queued` counts foreground jobs waiting, which is
//! what the queue limit bounds. `busy` counts those plus running tasks, in
//! one number: a job that starts a task, or a task that queues a job, adds
//! the new unit before it removes its own, so `busy` can never read zero
//! while work is passing from one kind to the other. Expiry and shutdown
//! trust it for that, and a shutdown's drain is woken when it reaches zero.
//!
//! The idle clock beside them decides when a session may be freed: after
//! `idle_ttl` of nothing, or the much shorter `unused_ttl` for a session no
//! tab ever used (a crawler's page load, or a flood of opens).

use std::{
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, AtomicUsize, Ordering},
    },
    time::Duration,
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
    /// Whether a tab ever subscribed or sent an event.
    used: AtomicBool,
    /// Since when no tab has listened, as the expiry sweeps saw it (see
    /// `Config::unwatched_task_timeout`).
    unwatched_since: Mutex<Option<Instant>>,
    census: Arc<Census>,
}

impl Work {
    pub(super) fn new(
        mailbox: mpsc::UnboundedSender<Box<Job>>,
        actor: AbortHandle,
        census: Arc<Census>,
        used: bool,
    ) -> Self {
        Self {
            mailbox,
            actor,
            queued: AtomicUsize::new(0),
            busy: AtomicUsize::new(0),
            last_active: Mutex::new(Instant::now()),
            used: AtomicBool::new(used),
            unwatched_since: Mutex::new(None),
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
        self.used.store(true, Ordering::Relaxed);
        *lock(&self.last_active) = Instant::now();
    }

    pub(super) fn last_active(&self) -> Instant {
        *lock(&self.last_active)
    }

    pub(super) fn was_used(&self) -> bool {
        self.used.load(Ordering::Relaxed)
    }

    /// A tab subscribed: the session is watched again.
    pub(super) fn watched(&self) {
        *lock(&self.unwatched_since) = None;
    }

    /// How long no tab has listened, as of `now`, given whether one does:
    /// the first sweep that finds nobody starts the count.
    pub(super) fn unwatched_for(&self, now: Instant, listened_to: bool) -> Duration {
        let mut since = lock(&self.unwatched_since);
        if listened_to {
            *since = None;
            return Duration::ZERO;
        }
        now.duration_since(*since.get_or_insert(now))
    }
}
