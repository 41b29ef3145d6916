//! A session's parts, and the order in which their locks are taken.

use std::sync::{Arc, atomic::AtomicBool};

#[cfg(feature = "redis")]
use super::intake::Forward;
use super::{intake::Intake, publishing::Publishing, task_table::TaskTable, work::Work};
use crate::{
    app::App,
    census::Census,
    config::Config,
    lock::SessionLock,
    request::RequestContext,
    shared::{SessionLinks, SharedStates},
    store::{persister::Persister, record::StoredSession},
    token::SessionToken,
};

/// A live session.
///
/// # Lock order
///
/// A path that needs several of these locks takes them in this order, and
/// none is held across an await:
///
/// 1. `lock`, the fair session lock (a tokio mutex, held by handlers and
///    guards across awaits);
/// 2. `intake.sequencer`;
/// 3. `tasks` (the task table);
/// 4. `publishing.outbox`;
/// 5. `work.last_active`.
///
/// For example, an event that starts a task goes from the sequencer to the
/// task table, where superseding a task sets its cancel flag under the
/// outbox lock; expiry reads the outbox and the idle clock under the
/// sequencer.
pub(super) struct SessionInner {
    pub(super) token: SessionToken,
    pub(super) shared: Shared,
    pub(super) lock: SessionLock,
    pub(super) intake: Intake,
    pub(super) work: Work,
    pub(super) tasks: TaskTable,
    pub(super) publishing: Publishing,
    /// The request behind the tab's current connection, once it connected.
    pub(super) request: std::sync::Mutex<Option<Arc<RequestContext>>>,
    /// The shared states it is linked to.
    pub(super) links: SessionLinks,
}

/// What every session of an engine shares.
#[derive(Clone)]
pub(crate) struct Shared {
    pub(crate) app: Arc<App>,
    pub(crate) config: Arc<Config>,
    /// Set when the server stops taking events.
    pub(crate) closing: Arc<AtomicBool>,
    pub(crate) census: Arc<Census>,
    /// Every shared state, by name and key.
    pub(crate) shared_states: Arc<SharedStates>,
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
    #[cfg(feature = "redis")]
    Owner,
    /// Follows it for local tabs while another instance owns it.
    #[cfg(feature = "redis")]
    Follower(Box<dyn Forward>),
}

impl Role {
    /// Whether this process saves the session: a follower does not, its
    /// owner does.
    pub(crate) fn saves(&self) -> bool {
        #[cfg(feature = "redis")]
        if let Self::Follower(_) = self {
            return false;
        }
        true
    }
}
