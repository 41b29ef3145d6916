//! One session: its states behind the fair lock ([`crate::lock`]), its
//! queue, its tasks and its outbox. [`SessionHandle`] is the cheap, cloneable
//! way in.
//!
//! Two counters track the work in a session. `queued` counts foreground jobs
//! waiting, which is what the queue limit bounds. `busy` counts those plus
//! running tasks, in one number: a job that starts a task, or a task that
//! queues a job, adds the new unit before it removes its own, so `busy` can
//! never read zero while work is passing from one kind to the other. Expiry
//! and shutdown trust it for that.

use std::sync::{
    Arc, Mutex, Weak,
    atomic::{AtomicBool, AtomicUsize, Ordering},
};

use stateside_wire::{ClientEvent, Notice};
use tokio::{sync::mpsc, task::AbortHandle, time::Instant};

use crate::{
    App, Config, Error, SessionToken, StateMap, TaskId, TaskInfo,
    actor::{self, Job},
    app::{Call, Prepared},
    lock::SessionLock,
    outbox::{Outbox, Subscription},
    sequencer::{Offer, Sequencer},
    store::{StoredSession, persister::Persister, redis::Forwarder},
    tasks::TaskTable,
};

/// How the engine took an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Submitted {
    /// Queued (foreground) or started (background).
    Accepted,
    /// Waiting for an earlier seq to arrive.
    Held,
    /// Seen before: acknowledged and ignored.
    Duplicate,
}

pub(crate) struct SessionInner {
    pub(crate) token: SessionToken,
    pub(crate) app: Arc<App>,
    pub(crate) config: Arc<Config>,
    pub(crate) lock: SessionLock,
    pub(crate) outbox: Mutex<Outbox>,
    pub(crate) tasks: TaskTable,
    sequencer: Mutex<Sequencer<Result<Prepared, Error>>>,
    mailbox: mpsc::UnboundedSender<Job>,
    actor: AbortHandle,
    /// Jobs in the mailbox; with held events, what `queue_limit` bounds.
    queued: AtomicUsize,
    /// Queued jobs plus running tasks (see the module docs).
    busy: AtomicUsize,
    /// A gap watch is pending (see `watch_gap`).
    gap_watched: AtomicBool,
    /// Shared with the engine: set when the server stops taking events.
    closing: Arc<AtomicBool>,
    /// Set, under the sequencer's mutex, when the engine frees the session,
    /// so an event that raced the expiry is refused instead of lost.
    expired: AtomicBool,
    last_active: Mutex<Instant>,
    /// Saves to a durable store, if the engine has one.
    pub(crate) persister: Option<Persister>,
    /// Set on a Redis instance that does not own the session: its events go
    /// to the owner, and its outbox follows what the owner publishes.
    forward: Option<Forwarder>,
    /// A save is scheduled (see [`Persister`]).
    pub(crate) dirty: AtomicBool,
    pub(crate) this: Weak<SessionInner>,
}

/// Where a session starts: from nothing, or from what a store kept.
pub(crate) struct Origin {
    pub(crate) stored: StoredSession,
    pub(crate) persister: Option<Persister>,
    pub(crate) role: Role,
}

/// What this process does for a session.
pub(crate) enum Role {
    /// Runs it, with no other instance involved (memory and file stores).
    Alone,
    /// Runs it and holds its Redis lease: saves also publish to the others.
    Owner,
    /// Follows it for local tabs while another instance owns it.
    Follower(Forwarder),
}

/// A handle to a live session. Cloning is an `Arc` increment; the session
/// lives while the engine or any handle, task or running handler holds it.
#[derive(Clone)]
pub struct SessionHandle {
    pub(crate) inner: Arc<SessionInner>,
}

impl SessionHandle {
    pub(crate) fn new(
        token: SessionToken,
        app: Arc<App>,
        config: Arc<Config>,
        closing: Arc<AtomicBool>,
        origin: Origin,
    ) -> Self {
        let Origin {
            stored,
            persister,
            role,
        } = origin;
        let relay = matches!(role, Role::Owner);
        let forward = match role {
            Role::Follower(forward) => Some(forward),
            Role::Alone | Role::Owner => None,
        };
        // A follower's acks, like a durable owner's, wait for the saved record.
        let durable = persister.is_some() || forward.is_some();
        let (mailbox, receiver) = mpsc::unbounded_channel();
        // The actor holds a weak reference: it can take a job only once this
        // `Arc` exists, since jobs arrive through it.
        let inner = Arc::new_cyclic(|session| SessionInner {
            token,
            app,
            sequencer: Mutex::new(Sequencer::resumed(
                config.seq_window,
                stored.applied_through,
            )),
            lock: SessionLock::new(
                config.lock_hold_warning,
                StateMap::restored(stored.document.clone()),
            ),
            outbox: Mutex::new(Outbox::new(
                config.replay_ring,
                config.stream_buffer,
                stored,
                durable,
                relay,
            )),
            config,
            tasks: TaskTable::default(),
            mailbox,
            actor: tokio::spawn(actor::run(receiver, session.clone())).abort_handle(),
            queued: AtomicUsize::new(0),
            busy: AtomicUsize::new(0),
            closing,
            gap_watched: AtomicBool::new(false),
            expired: AtomicBool::new(false),
            last_active: Mutex::new(Instant::now()),
            persister,
            forward,
            dirty: AtomicBool::new(false),
            this: session.clone(),
        });
        Self { inner }
    }

    pub fn token(&self) -> SessionToken {
        self.inner.token
    }

    /// Takes one client event. It is decoded now, so a bad event is refused
    /// to its sender; its seq still counts as used, so later events flow.
    pub fn submit(&self, event: ClientEvent) -> Result<Submitted, Error> {
        let inner = &self.inner;
        if inner.closing.load(Ordering::Relaxed) {
            return Err(Error::ShuttingDown);
        }
        if let Some(forward) = &inner.forward {
            // The owner sequences it; its ack comes back on the stream.
            inner.touch();
            forward.send(event);
            return Ok(Submitted::Accepted);
        }
        let prepared = inner.app.prepare(&event.handler, event.args);
        let refusal = prepared.as_ref().err().cloned();
        let mut sequencer = lock(&inner.sequencer);
        if inner.expired.load(Ordering::SeqCst) {
            return Err(Error::UnknownSession);
        }
        inner.touch();
        let waiting = inner.queued.load(Ordering::Relaxed) + sequencer.held();
        if waiting >= inner.config.queue_limit {
            return Err(Error::Busy { waiting });
        }
        let submitted = match sequencer.offer(event.seq, prepared)? {
            Offer::Duplicate => Submitted::Duplicate,
            Offer::Held => {
                inner.watch_gap(sequencer.next());
                Submitted::Held
            }
            Offer::Ready(ready) => {
                for (seq, prepared) in ready {
                    inner.dispatch(seq, prepared);
                }
                Submitted::Accepted
            }
        };
        drop(sequencer);
        match refusal {
            Some(error) if submitted != Submitted::Duplicate => Err(error),
            _ => Ok(submitted),
        }
    }

    /// Opens a stream for a client that last applied version `since`.
    pub fn subscribe(&self, since: Option<u64>) -> Subscription {
        self.inner.touch();
        lock(&self.inner.outbox).subscribe(since)
    }

    /// The seq this session expects next from its client (on a follower,
    /// as far as the owner's saved acks tell).
    pub fn next_seq(&self) -> u64 {
        if self.inner.forward.is_some() {
            return lock(&self.inner.outbox).acked() + 1;
        }
        lock(&self.inner.sequencer).next()
    }

    /// The document version clients have been sent.
    pub fn version(&self) -> u64 {
        lock(&self.inner.outbox).version()
    }

    pub fn tasks(&self) -> Vec<TaskInfo> {
        self.inner.tasks.list()
    }

    pub fn cancel(&self, id: TaskId) -> bool {
        self.inner.cancel(id)
    }

    /// Reads the current value of a state, waiting for the lock like
    /// anyone else. For tests, tools and server-side rendering.
    ///
    /// # Panics
    ///
    /// When called from inside a handler or lock section of this session:
    /// it would wait for itself.
    pub async fn read<S: crate::SessionState, R>(&self, read: impl FnOnce(&S) -> R) -> R {
        let mut states = self.inner.lock.acquire("read").await;
        read(states.get::<S>())
    }

    /// Nothing queued, nothing running: no foreground event and no task.
    pub fn is_quiet(&self) -> bool {
        self.inner.busy.load(Ordering::SeqCst) == 0
    }

    pub(crate) fn close_streams(&self) {
        lock(&self.inner.outbox).close_streams();
    }

    /// The end of a shutdown's grace: cancels every task, and drops the
    /// running foreground handler (its unpublished changes roll back) with
    /// everything still queued behind it.
    pub(crate) fn stop(&self) {
        for task in self.inner.tasks.list() {
            self.inner.cancel(task.id);
        }
        self.inner.actor.abort();
    }

    /// Marks the session expired if it is idle: nothing running, nothing
    /// queued, nobody listening, and no activity for `idle_ttl`. Decided
    /// under the sequencer's mutex, so no event can slip in meanwhile.
    pub(crate) fn try_expire(&self, now: Instant) -> bool {
        let inner = &self.inner;
        let _sequencer = lock(&inner.sequencer);
        let idle = self.is_quiet()
            && !lock(&inner.outbox).has_subscribers()
            && now.duration_since(*lock(&inner.last_active)) >= inner.config.idle_ttl;
        if idle {
            inner.expired.store(true, Ordering::SeqCst);
        }
        idle
    }
}

impl SessionInner {
    /// Events after `missing` are held. If it has not come when the timeout
    /// fires, the client is told to resend. One watch at a time.
    fn watch_gap(self: &Arc<Self>, missing: u64) {
        if self.gap_watched.swap(true, Ordering::SeqCst) {
            return;
        }
        let session = Arc::downgrade(self);
        let timeout = self.config.gap_timeout;
        tokio::spawn(async move {
            tokio::time::sleep(timeout).await;
            let Some(session) = session.upgrade() else {
                return;
            };
            session.gap_watched.store(false, Ordering::SeqCst);
            let sequencer = lock(&session.sequencer);
            let (next, held) = (sequencer.next(), sequencer.held());
            drop(sequencer);
            if held > 0 && next == missing {
                tracing::debug!(missing, held, "asking the client to resend");
                lock(&session.outbox).request_resend(missing);
                session.persist();
            } else if held > 0 {
                session.watch_gap(next);
            }
        });
    }

    /// Restarts the idle clock: on every event and subscription, and when a
    /// job or task ends, so a session is idle only once nothing has happened
    /// for the whole TTL.
    pub(crate) fn touch(&self) {
        *lock(&self.last_active) = Instant::now();
    }

    /// Sends a sequenced event on its way. Called in seq order, under the
    /// sequencer's mutex, so the mailbox sees events in seq order too.
    fn dispatch(self: &Arc<Self>, seq: u64, prepared: Result<Prepared, Error>) {
        match prepared {
            Ok(Prepared {
                handler,
                call: Call::Background(call),
                supersede_key,
            }) => {
                self.start_for_event(Some(seq), handler, call, supersede_key);
            }
            Ok(prepared) => self.enqueue(Job {
                seq: Some(seq),
                prepared,
            }),
            Err(error) => {
                let notice = Notice {
                    handler: error.handler().unwrap_or_default().to_owned(),
                    message: error.to_string(),
                };
                self.publish_applied(seq, Some(notice));
            }
        }
    }

    /// A chained event from a handler or task, decoded like a client's.
    pub(crate) fn prepare_chained<A: serde::Serialize>(
        &self,
        handler: stateside_wire::HandlerId<A>,
        args: &A,
    ) -> Result<Job, Error> {
        let args = serde_json::to_value(args).map_err(|error| Error::BadArgs {
            handler: handler.name().to_owned(),
            reason: error.to_string(),
        })?;
        let prepared = self.app.prepare(handler.name(), args)?;
        Ok(Job {
            seq: None,
            prepared,
        })
    }

    pub(crate) fn enqueue(&self, job: Job) {
        self.job_added();
        // The actor holds only a weak reference and lives while we do.
        let _ = self.mailbox.send(job);
    }

    /// Queues a job for a task, unless the task was cancelled: decided under
    /// the outbox lock, like [`settle`](Self::settle), so that nothing a
    /// task sends gets through once its cancel has returned.
    pub(crate) fn enqueue_unless_cancelled(&self, job: Job, cancelled: &AtomicBool) {
        let _outbox = lock(&self.outbox);
        if !cancelled.load(Ordering::SeqCst) {
            self.enqueue(job);
        }
    }

    pub(crate) fn job_added(&self) {
        self.busy.fetch_add(1, Ordering::SeqCst);
        self.queued.fetch_add(1, Ordering::SeqCst);
    }

    pub(crate) fn job_done(&self) {
        self.queued.fetch_sub(1, Ordering::SeqCst);
        self.busy.fetch_sub(1, Ordering::SeqCst);
    }

    pub(crate) fn task_added(&self) {
        self.busy.fetch_add(1, Ordering::SeqCst);
    }

    pub(crate) fn task_done(&self) {
        self.busy.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Locks a std mutex. These guard plain data and no await happens while one
/// is held; none of our critical sections can panic halfway through a
/// change, so a poisoned mutex still holds consistent data.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}
