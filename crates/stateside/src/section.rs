//! A lock section: what [`Cx`](crate::Cx) and [`Guard`](crate::Guard) have
//! in common. Both hold the session's lock, read and change states under
//! it, collect client actions, and end the section so far with one call to
//! the session, which publishes or rolls back. Writing that once here is
//! what keeps a foreground handler and a background guard behaving alike.

use std::sync::atomic::AtomicBool;

use stateside_wire::{Action, Notice};

use crate::{
    action::{ActionRefused, vet},
    lock::Held,
    shared::SharedSections,
    state_map::{SessionState, StateMap},
};

/// How a lock section ended, for [`Settle::settle`].
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
    /// The shared states the section holds: published with the session's
    /// changes or rolled back with them, and saved before the session is,
    /// so that its ack never comes before they are in the store.
    pub(crate) shared: &'a mut SharedSections,
}

/// The session's side of ending a section.
pub(crate) trait Settle {
    /// Publishes the section's changes with its ack and actions in one
    /// update, or, if it failed or was cancelled, undoes them (and drops its
    /// actions). Returns whether the changes were published.
    fn settle(&self, states: &mut StateMap, outcome: Outcome<'_>) -> bool;
}

/// The held lock and the client actions collected under it, with the
/// shared states the section locked too.
pub(crate) struct Section {
    states: Held,
    actions: Vec<Action>,
    pub(crate) shared: SharedSections,
}

impl Section {
    pub(crate) fn new(states: Held) -> Self {
        Self {
            states,
            actions: Vec::new(),
            shared: SharedSections::default(),
        }
    }

    /// Makes sure the section's own state `S` exists, for [`own`](Self::own).
    pub(crate) fn ensure<S: SessionState>(&mut self) {
        self.states.ensure::<S>();
    }

    pub(crate) fn state<T: SessionState>(&mut self) -> &T {
        self.states.get::<T>()
    }

    pub(crate) fn state_mut<T: SessionState>(&mut self) -> &mut T {
        self.states.get_mut::<T>()
    }

    pub(crate) fn states(&mut self) -> &mut StateMap {
        &mut self.states
    }

    /// The section's own state, which [`ensure`](Self::ensure) created.
    pub(crate) fn own<S: SessionState>(&self) -> &S {
        self.states.existing::<S>()
    }

    /// Collects a client action, if an app that does (or does not) run
    /// scripts may send it.
    pub(crate) fn action(&mut self, action: Action, scripts: bool) -> Result<(), ActionRefused> {
        vet(&action, scripts)?;
        self.actions.push(action);
        Ok(())
    }

    /// Ends the section so far, keeping the locks: publishes its changes and
    /// actions, or discards them, and its shared states' with them.
    /// Returns whether they were published.
    pub(crate) fn settle(
        &mut self,
        session: &dyn Settle,
        handler: &'static str,
        discard: bool,
        cancelled: Option<&AtomicBool>,
    ) -> bool {
        session.settle(
            &mut self.states,
            Outcome {
                handler,
                seq: None,
                actions: std::mem::take(&mut self.actions),
                failure: None,
                discard,
                cancelled,
                shared: &mut self.shared,
            },
        )
    }

    /// The locks and the actions not yet published, for the actor to end a
    /// foreground handler's section with its ack.
    pub(crate) fn into_parts(self) -> (Held, Vec<Action>, SharedSections) {
        (self.states, self.actions, self.shared)
    }
}
