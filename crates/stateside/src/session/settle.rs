//! The end of every lock section, foreground or background: its changes
//! become one published update (with its ack, actions and any notice) and a
//! save is scheduled, or, if it failed or was cancelled, they are undone.
//! One path for all of them is what keeps versions contiguous and rollback
//! and cancellation consistent.

use std::sync::{Arc, atomic::Ordering};

use stateside_wire::Notice;

use super::inner::SessionInner;
use crate::{
    section::Outcome,
    state_map::{CommitError, StateMap},
    store::persister::{Dirty, Persistable},
};

impl SessionInner {
    /// Ends a lock section: publishes its changes with its ack and actions
    /// in one update, or, if it failed or was cancelled, undoes them (and
    /// drops its actions). Returns whether the changes were published.
    pub(super) fn settle(self: &Arc<Self>, states: &mut StateMap, outcome: Outcome<'_>) -> bool {
        let mut outbox = self.publishing.outbox();
        // Checked under the outbox lock, which `cancel` also takes: once a
        // cancel returns, the cancelled task can publish nothing more.
        let cancelled = outcome
            .cancelled
            .is_some_and(|flag| flag.load(Ordering::SeqCst));
        let mut failure = outcome.failure;
        let ops = if failure.is_some() || outcome.discard || cancelled {
            states.rollback();
            Vec::new()
        } else {
            let limit = self.shared.config.max_state_bytes;
            states
                .commit(&mut outbox.shown, limit)
                .unwrap_or_else(|error| {
                    states.rollback();
                    let message = match error {
                        // The app's bug: details for the log only.
                        CommitError::Serialise(_) => crate::incident(outcome.handler, error),
                        // The user's doing, and theirs to know.
                        CommitError::TooLarge { .. } => error.to_string(),
                    };
                    failure = Some(Notice::failed(outcome.handler, message));
                    Vec::new()
                })
        };
        let published = failure.is_none() && !outcome.discard && !cancelled;
        let actions = if published {
            outcome.actions
        } else {
            Vec::new()
        };
        if let Some(seq) = outcome.seq {
            outbox.mark_applied(seq);
        }
        let changed =
            !ops.is_empty() || !actions.is_empty() || failure.is_some() || outcome.seq.is_some();
        if changed {
            outbox.publish(ops, actions, failure);
        }
        // Their fan-out takes this session's outbox too, and their saves
        // go ahead of this session's (which carries its ack).
        drop(outbox);
        outcome.shared.settle(published);
        if changed {
            self.persist();
        }
        published
    }

    /// Acknowledges `seq` and sends the ack with any notice.
    pub(super) fn publish_applied(self: &Arc<Self>, seq: u64, failure: Option<Notice>) {
        let mut outbox = self.publishing.outbox();
        outbox.mark_applied(seq);
        outbox.publish(Vec::new(), Vec::new(), failure);
        drop(outbox);
        self.persist();
    }

    /// Schedules a save, with a durable store.
    pub(super) fn persist(self: &Arc<Self>) {
        if let Some(persister) = &self.publishing.persister {
            persister.mark_dirty(self);
        }
    }
}

impl Persistable for SessionInner {
    fn mark_dirty(&self) -> bool {
        self.publishing.mark_dirty()
    }

    fn take_dirty(&self) -> Dirty {
        self.publishing.clear_dirty();
        let outbox = self.publishing.outbox();
        Dirty {
            token: self.token,
            record: outbox.stored(),
            through: outbox.applied_through(),
            relayed: outbox.relayed(),
        }
    }

    fn confirm_saved(&self, saved: &Dirty) {
        let mut outbox = self.publishing.outbox();
        outbox.drop_relayed(saved.relayed.len());
        outbox.confirm_persisted(saved.through);
    }
}
