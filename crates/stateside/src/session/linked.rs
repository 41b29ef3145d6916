//! A session as its shared states see it: where their changes land, and
//! what happens to its links when the session ends.

use std::sync::Arc;

use json_patch::PatchOperation;

use super::inner::SessionInner;
use crate::{
    shared::{Linked, removal},
    state_map::{ErasedState, Publish},
};

impl Linked for SessionInner {
    fn show_shared(
        self: Arc<Self>,
        name: &'static str,
        value: Arc<dyn ErasedState>,
        ops: Vec<PatchOperation>,
    ) {
        let mut outbox = self.publishing.outbox();
        outbox.shown.publish(name, value);
        outbox.publish(ops, Vec::new(), None);
        drop(outbox);
        self.persist();
    }

    fn hide_shared(self: Arc<Self>, name: &'static str) {
        let mut outbox = self.publishing.outbox();
        outbox.shown.remove(name);
        outbox.publish(vec![removal(name)], Vec::new(), None);
        drop(outbox);
        self.persist();
    }

    fn is_online(&self) -> bool {
        self.publishing.outbox().has_subscribers()
    }
}

impl Drop for SessionInner {
    /// An ended session (expired, evicted, closed) leaves its shared
    /// states: each drops it from presence, and one that nothing links to
    /// any more is freed after the idle TTL.
    fn drop(&mut self) {
        let cells = self.links.all();
        if cells.is_empty() {
            return;
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let states = Arc::clone(&self.shared.shared_states);
        runtime.spawn(async move {
            for cell in cells {
                let mut held = cell.lock.acquire("stateside/unlink").await;
                cell.refresh_presence(&mut held);
                drop(held);
                if !cell.is_linked() {
                    states.release_when_idle(&cell);
                }
            }
        });
    }
}

impl SessionInner {
    /// Refreshes the presence of every shared state this session is linked
    /// to: a tab of it connected or left.
    pub(crate) fn refresh_presence(&self) {
        for cell in self.links.all() {
            tokio::spawn(async move {
                let mut held = cell.lock.acquire("stateside/presence").await;
                cell.refresh_presence(&mut held);
            });
        }
    }
}
