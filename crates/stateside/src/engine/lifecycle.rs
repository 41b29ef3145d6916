//! The engine over time: freeing idle sessions, and the two steps of a
//! shutdown. The second ends by handing the sessions on: every change is
//! saved (a task's last one too), and with Redis the leases are given up,
//! so other instances take the sessions over at once instead of waiting
//! for the leases to run out.

use std::{
    pin::pin,
    sync::{Arc, atomic::Ordering},
    time::Duration,
};

use tokio::time::Instant;

use super::{Durable, Engine};
use crate::{session::SessionHandle, token::SessionToken};

impl Engine {
    /// Frees idle sessions; returns how many. A session with a running
    /// task, queued events or a connected tab is never idle, but the tasks
    /// of a session no tab has watched for `unwatched_task_timeout` are
    /// cancelled here, so it can become idle (see `session::expiry`).
    pub fn expire_idle(&self) -> usize {
        let now = Instant::now();
        let registry = &self.inner.registry;
        for session in registry.all() {
            session.stop_unwatched_tasks(now);
        }
        let expired = registry.remove_where(|session| session.try_expire(now, false));
        let count = expired.len();
        self.forget(expired);
        count
    }

    /// Makes room for one more session by freeing the longest-idle one;
    /// false if none is idle.
    pub(super) fn evict_longest_idle(&self) -> bool {
        let Some(token) = self.inner.registry.evict_longest_idle() else {
            return false;
        };
        tracing::info!("session limit reached: the longest-idle session was freed");
        self.forget(vec![token]);
        true
    }

    /// Lets the store forget sessions this process freed.
    fn forget(&self, freed: Vec<SessionToken>) {
        if freed.is_empty() {
            return;
        }
        match &self.inner.durable {
            Some(Durable::Store(store)) => {
                let store = Arc::clone(store);
                tokio::task::spawn_blocking(move || {
                    for token in &freed {
                        if let Err(error) = store.remove(token) {
                            tracing::warn!(%error, "could not remove an expired session");
                        }
                    }
                });
            }
            // The record stays for another instance (Redis expires it after
            // the idle TTL); only the lease is given up.
            #[cfg(feature = "redis")]
            Some(Durable::Redis(redis)) => {
                let redis = Arc::clone(redis);
                tokio::spawn(async move {
                    for token in &freed {
                        if let Err(error) = redis.leave(token).await {
                            tracing::warn!(%error, "could not release an expired session");
                        }
                    }
                });
            }
            None => {}
        }
    }

    /// Runs [`expire_idle`](Self::expire_idle) periodically, for as long as
    /// the engine exists.
    pub fn spawn_expiry(&self) {
        let engine = Arc::downgrade(&self.inner);
        let config = self.config();
        let shortest = config
            .idle_ttl
            .min(config.unused_ttl)
            .min(config.unwatched_task_timeout);
        let period = (shortest / 4).max(Duration::from_millis(10));
        tokio::spawn(async move {
            let mut ticks = tokio::time::interval(period);
            loop {
                ticks.tick().await;
                let Some(inner) = engine.upgrade() else {
                    return;
                };
                let freed = Engine { inner }.expire_idle();
                if freed > 0 {
                    tracing::debug!(freed, "expired idle sessions");
                }
            }
        });
    }

    /// False once [`close`](Self::close) has been called.
    pub fn is_accepting(&self) -> bool {
        !self.inner.registry.shared().closing.load(Ordering::SeqCst)
    }

    /// First step of a shutdown: refuse new events and end every stream, so
    /// the HTTP server's graceful shutdown is not held open by them.
    pub fn close(&self) {
        let registry = &self.inner.registry;
        registry.shared().closing.store(true, Ordering::SeqCst);
        for session in registry.all() {
            session.close_streams();
        }
    }

    /// Second step: waits up to `grace` for queued events and running tasks
    /// to finish, then cancels what is left: running tasks, the running
    /// foreground handler (its unpublished changes roll back) and the events
    /// queued behind it. Then it waits, up to `grace` again, for the store
    /// to have every change, and with Redis gives this process's leases up.
    /// Returns whether all work finished.
    pub async fn drain(&self, grace: Duration) -> bool {
        let finished = self.finish_work(grace).await;
        self.hand_on(grace).await;
        finished
    }

    async fn finish_work(&self, grace: Duration) -> bool {
        let deadline = Instant::now() + grace;
        let census = Arc::clone(&self.inner.registry.shared().census);
        loop {
            // Listening before looking, so a session that goes quiet in
            // between still wakes this loop.
            let mut quiet = pin!(census.quiet().notified());
            quiet.as_mut().enable();
            let busy: Vec<_> = self
                .inner
                .registry
                .all()
                .into_iter()
                .filter(|session| !session.is_quiet())
                .collect();
            if busy.is_empty() {
                return true;
            }
            if Instant::now() >= deadline {
                tracing::warn!(sessions = busy.len(), "grace period over; cancelling tasks");
                busy.iter().for_each(SessionHandle::stop);
                return false;
            }
            drop(busy);
            tokio::select! {
                () = quiet => {}
                () = tokio::time::sleep_until(deadline) => {}
            }
        }
    }

    /// Saves what is left, then lets the other instances have the sessions.
    async fn hand_on(&self, grace: Duration) {
        if let Some(persister) = self.inner.registry.persister()
            && tokio::time::timeout(grace, persister.flush())
                .await
                .is_err()
        {
            tracing::error!("the store did not take the last changes in time");
        }
        #[cfg(feature = "redis")]
        if let Some(Durable::Redis(redis)) = &self.inner.durable {
            redis.leave_all().await;
        }
    }
}
