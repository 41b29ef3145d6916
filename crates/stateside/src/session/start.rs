//! How a session starts.

use std::sync::Arc;

use tokio::sync::mpsc;

use super::{
    actor,
    handle::SessionHandle,
    inner::{Origin, Role, SessionInner, Shared},
    intake::Intake,
    publishing::Publishing,
    task_table::TaskTable,
    work::Work,
};
use crate::{
    lock::SessionLock,
    outbox::{Outbox, Runner},
    shared::SessionLinks,
    state_map::StateMap,
    token::SessionToken,
};

impl SessionHandle {
    /// Starts a session: its actor, and its parts as `origin` has them.
    pub(crate) fn start(token: SessionToken, shared: Shared, origin: Origin) -> Self {
        let Origin {
            stored,
            persister,
            role,
        } = origin;
        // A follower's acks, like a durable owner's, wait for the saved record.
        let (runner, forward) = match role {
            Role::Alone => (
                Runner::Alone {
                    durable: persister.is_some(),
                },
                None,
            ),
            #[cfg(feature = "redis")]
            Role::Owner => (Runner::Owner, None),
            #[cfg(feature = "redis")]
            Role::Follower(forward) => (Runner::Follower, Some(forward)),
        };
        let config = &shared.config;
        let (mailbox, receiver) = mpsc::unbounded_channel();
        let last_task = stored.last_task;
        // A session from a record had a tab once, and has one coming back.
        let used = stored.version > 0;
        // The actor holds a weak reference: it can take a job only once this
        // `Arc` exists, since jobs arrive through it.
        let inner = Arc::new_cyclic(|session| SessionInner {
            token,
            intake: Intake::new(config.seq_window, &stored, forward),
            lock: SessionLock::new(
                config.lock_hold_warning,
                StateMap::restored(stored.document.clone(), stored.backend.clone()),
            ),
            publishing: Publishing::new(Outbox::new(config, stored, runner), persister),
            request: std::sync::Mutex::new(None),
            links: SessionLinks::new(),
            tasks: TaskTable::new(Arc::clone(&shared.census), last_task),
            work: Work::new(
                mailbox,
                tokio::spawn(actor::run(receiver, session.clone())).abort_handle(),
                Arc::clone(&shared.census),
                used,
            ),
            shared: shared.clone(),
        });
        Self::from(inner)
    }
}
