//! The end of every lock section, foreground or background: its changes
//! become one published update (with its ack, actions and any notice) and a
//! save is scheduled, or, if it failed or was cancelled, they are undone.
//! One path for all of them is what keeps versions contiguous and rollback
//! and cancellation consistent.

use std::sync::atomic::{AtomicBool, Ordering};

use stateside_wire::{Action, Notice};

use crate::{
    StateMap,
    session::{SessionInner, lock},
};

impl SessionInner {
    /// Ends a lock section: publishes its changes with its ack and actions
    /// in one update, or, if it failed or was cancelled, undoes them (and
    /// drops its actions). Returns whether the changes were published.
    pub(crate) fn settle(&self, states: &mut StateMap, outcome: Outcome<'_>) -> bool {
        let mut outbox = lock(&self.outbox);
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
            states.commit(&mut outbox.document).unwrap_or_else(|error| {
                states.rollback();
                failure = Some(Notice {
                    handler: outcome.handler.to_owned(),
                    message: format!("state does not serialise: {error}"),
                });
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
        if !ops.is_empty() || !actions.is_empty() || failure.is_some() || outcome.seq.is_some() {
            outbox.publish(ops, actions, failure);
            drop(outbox);
            self.persist();
        }
        published
    }

    /// Acknowledges `seq` and sends the ack with any notice.
    pub(crate) fn publish_applied(&self, seq: u64, failure: Option<Notice>) {
        let mut outbox = lock(&self.outbox);
        outbox.mark_applied(seq);
        outbox.publish(Vec::new(), Vec::new(), failure);
        drop(outbox);
        self.persist();
    }

    /// Schedules a save, with a durable store.
    pub(crate) fn persist(&self) {
        if let (Some(persister), Some(this)) = (&self.persister, self.this.upgrade()) {
            persister.mark_dirty(&this);
        }
    }

    /// Tells the client a task failed, unless it was cancelled meanwhile.
    pub(crate) fn publish_task_failure(&self, notice: Notice, cancelled: &AtomicBool) {
        let mut outbox = lock(&self.outbox);
        if !cancelled.load(Ordering::SeqCst) {
            outbox.publish(Vec::new(), Vec::new(), Some(notice));
            drop(outbox);
            // With Redis the save carries it to tabs on other instances.
            self.persist();
        }
    }
}

/// How a lock section ended, for [`SessionInner::settle`].
pub(crate) struct Outcome<'a> {
    pub(crate) handler: &'static str,
    /// The client event this section completes, to acknowledge.
    pub(crate) seq: Option<u64>,
    pub(crate) actions: Vec<Action>,
    /// The handler failed: roll back and tell the client.
    pub(crate) failure: Option<Notice>,
    /// Roll back silently (a guard rolled back, or a panic unwinding through it).
    pub(crate) discard: bool,
    pub(crate) cancelled: Option<&'a AtomicBool>,
}
