//! Engine-wide figures that sessions keep up to date themselves.
//!
//! The engine hands one [`Census`] to every session it starts. Sessions
//! count themselves in and out, and their tasks as they start and end, so
//! reading the figures (for monitoring, or a handler's
//! [`Cx::engine_stats`](crate::Cx::engine_stats)) is two atomic loads, and a
//! session never needs a way back to the engine.

use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::sync::Notify;

/// What [`Engine::stats`](crate::Engine::stats) reports.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct EngineStats {
    /// Live sessions in this process.
    pub sessions: usize,
    /// Background tasks running in them.
    pub tasks: usize,
}

/// The shared counters, and the signal a session gives when it goes quiet.
#[derive(Default)]
pub(crate) struct Census {
    sessions: AtomicUsize,
    tasks: AtomicUsize,
    /// Rung when a session's work count reaches zero, so a shutdown's drain
    /// waits for it instead of polling.
    quiet: Notify,
}

impl Census {
    pub(crate) fn stats(&self) -> EngineStats {
        EngineStats {
            sessions: self.sessions.load(Ordering::Relaxed),
            tasks: self.tasks.load(Ordering::Relaxed),
        }
    }

    pub(crate) fn session_added(&self) {
        self.sessions.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn session_removed(&self) {
        self.sessions.fetch_sub(1, Ordering::Relaxed);
    }

    pub(crate) fn task_added(&self) {
        self.tasks.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn task_removed(&self) {
        self.tasks.fetch_sub(1, Ordering::Relaxed);
    }

    /// Wakes everyone waiting in [`quiet`](Self::quiet).
    pub(crate) fn went_quiet(&self) {
        self.quiet.notify_waiters();
    }

    /// The signal of [`went_quiet`](Self::went_quiet).
    pub(crate) fn quiet(&self) -> &Notify {
        &self.quiet
    }
}
