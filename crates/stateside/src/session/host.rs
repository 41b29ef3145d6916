//! The session as handler code sees it: the [`Host`] behind every `Cx` and
//! `Task`.

use std::sync::{Arc, Weak, atomic::AtomicBool};

use serde_json::Value;

use super::{handle::SessionHandle, inner::SessionInner};
use crate::{
    call::{Host, Job, Prepared, TaskStart},
    census::EngineStats,
    error::Error,
    lock::SessionLock,
    login::UserId,
    mutex::lock,
    request::RequestContext,
    section::{Outcome, Settle},
    shared::{Linked, SessionLinks, SharedStates},
    state_map::StateMap,
    task_id::{TaskId, TaskInfo},
    token::SessionToken,
};

impl Settle for SessionHandle {
    fn settle(&self, states: &mut StateMap, outcome: Outcome<'_>) -> bool {
        self.inner.settle(states, outcome)
    }
}

impl Host for SessionHandle {
    fn lock(&self) -> &SessionLock {
        &self.inner.lock
    }

    fn prepare(&self, handler: &str, args: Value) -> Result<Prepared, Error> {
        self.inner.shared.app.prepare_chained(handler, args)
    }

    fn start(&self, handler: &'static str, start: TaskStart) -> Result<TaskId, Error> {
        self.inner.spawn_task(handler, start, None)
    }

    fn enqueue_unless_cancelled(&self, job: Job, cancelled: &AtomicBool) {
        self.inner.enqueue_unless_cancelled(job, cancelled);
    }

    fn token(&self) -> SessionToken {
        self.inner.token
    }

    fn request(&self) -> Option<Arc<RequestContext>> {
        lock(&self.inner.request).clone()
    }

    fn user(&self) -> Option<UserId> {
        let request = self.request()?;
        self.inner.shared.app.user(&request)
    }

    fn tasks(&self) -> Vec<TaskInfo> {
        self.inner.tasks.list()
    }

    fn cancel(&self, id: TaskId) -> bool {
        self.inner.cancel(id)
    }

    fn engine_stats(&self) -> EngineStats {
        self.inner.shared.census.stats()
    }

    fn runs_scripts(&self) -> bool {
        self.inner.shared.app.runs_scripts()
    }

    fn shared_states(&self) -> &Arc<SharedStates> {
        &self.inner.shared.shared_states
    }

    fn links(&self) -> &SessionLinks {
        &self.inner.links
    }

    fn linked(&self) -> Weak<dyn Linked> {
        let session: Weak<SessionInner> = Arc::downgrade(&self.inner);
        session
    }
}
