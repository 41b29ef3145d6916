//! When a session may be freed, and what happens to the tasks of a session
//! nobody watches.
//!
//! A session is idle when nothing runs, nothing is queued and no tab
//! listens. It is freed after `idle_ttl` of that, or after the much shorter
//! `unused_ttl` if no tab ever used it (a crawler's page load, or a flood
//! of opens), or at once when the process is full and it is the longest
//! idle (`Engine::open`). A running task keeps a session from being idle,
//! so the tasks of a session that no tab has watched for
//! `unwatched_task_timeout` are cancelled, as a click on "cancel" would.

use std::{sync::Arc, time::Duration};

use tokio::time::Instant;

use super::inner::SessionInner;
use crate::mutex::lock;

impl SessionInner {
    /// How long the session has been idle, if it is: nothing running,
    /// nothing queued, nobody listening.
    pub(super) fn idle_for(&self, now: Instant) -> Option<Duration> {
        (self.work.is_quiet() && !self.publishing.outbox().has_subscribers())
            .then(|| now.duration_since(self.work.last_active()))
    }

    /// How long this session may stay idle: `idle_ttl`, or `unused_ttl`
    /// if no tab ever used it.
    fn ttl(&self) -> Duration {
        let config = &self.shared.config;
        if self.work.was_used() {
            config.idle_ttl
        } else {
            config.unused_ttl.min(config.idle_ttl)
        }
    }

    /// Marks the session expired if it is idle past its TTL, or at all for
    /// an `eviction`. Decided under the sequencer's mutex, so no event can
    /// slip in meanwhile.
    pub(super) fn try_expire(&self, now: Instant, eviction: bool) -> bool {
        let _sequencer = lock(&self.intake.sequencer);
        let expired = self
            .idle_for(now)
            .is_some_and(|idle| eviction || idle >= self.ttl());
        if expired {
            self.intake.expire();
        }
        expired
    }

    /// Cancels every task if no tab has listened for the configured time;
    /// returns how many. Called by each expiry sweep.
    pub(super) fn stop_unwatched_tasks(self: &Arc<Self>, now: Instant) -> usize {
        let listened_to = self.publishing.outbox().has_subscribers();
        let unwatched = self.work.unwatched_for(now, listened_to);
        if unwatched < self.shared.config.unwatched_task_timeout {
            return 0;
        }
        let tasks = self.tasks.list();
        let stopped = tasks.iter().filter(|task| self.cancel(task.id)).count();
        if stopped > 0 {
            tracing::info!(session = %self.token.log_tag(), stopped, "no tab watched: tasks cancelled");
        }
        stopped
    }
}
