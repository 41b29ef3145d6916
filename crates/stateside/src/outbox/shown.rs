//! The document clients have been shown, state by state: what snapshots
//! send, what a save stores, and what the next patch of each state is
//! computed against.
//!
//! A state the session has published is held as the value itself, shared
//! with the session's `StateMap` (no JSON copy is kept, so a change costs
//! nothing here and an idle session holds each state once). A state read
//! from a store and not yet used, and every state of a Redis follower,
//! which runs no handlers, is held as the JSON it was stored as.

use std::{borrow::Cow, sync::Arc};

use serde_json::{Map, Value};
use stateside_wire::{PatchOperation, State};

use crate::state_map::{ErasedState, Publish, downcast};

#[derive(Default)]
pub(crate) struct Shown {
    entries: Vec<(Cow<'static, str>, Entry)>,
}

enum Entry {
    Live(Arc<dyn ErasedState>),
    /// `shown` is `None` for a state clients never see (`State::SHOWN`).
    Stored {
        shown: Option<Value>,
        backend: Option<Value>,
    },
}

impl Publish for Shown {
    fn publish(&mut self, name: &'static str, state: Arc<dyn ErasedState>) {
        let entry = Entry::Live(state);
        match self.entries.iter_mut().find(|(known, _)| known == name) {
            Some((_, old)) => *old = entry,
            None => {
                self.entries.reserve_exact(1);
                self.entries.push((Cow::Borrowed(name), entry));
            }
        }
    }
}

impl Shown {
    /// A stored record's document and backend fields.
    pub(crate) fn stored(document: Map<String, Value>, mut backend: Map<String, Value>) -> Self {
        let mut entries: Vec<_> = document
            .into_iter()
            .map(|(name, shown)| {
                let backend = backend.remove(&name);
                let entry = Entry::Stored {
                    shown: Some(shown),
                    backend,
                };
                (Cow::Owned(name), entry)
            })
            .collect();
        // What is left belongs to states clients never see.
        entries.extend(backend.into_iter().map(|(name, backend)| {
            let entry = Entry::Stored {
                shown: None,
                backend: Some(backend),
            };
            (Cow::Owned(name), entry)
        }));
        Self { entries }
    }

    /// Forgets the state `name` (a shared state the session unlinked).
    pub(crate) fn remove(&mut self, name: &str) {
        self.entries.retain(|(known, _)| known != name);
    }

    /// The whole document as clients see it.
    pub(crate) fn document(&self) -> Map<String, Value> {
        self.entries
            .iter()
            .filter_map(|(name, entry)| {
                let shown = match entry {
                    Entry::Live(state) if !state.is_shown() => return None,
                    Entry::Live(state) => state.shown().unwrap_or_else(|error| {
                        // It serialised when it was published.
                        tracing::error!(state = %name, %error, "a published state no longer serialises");
                        Value::Null
                    }),
                    Entry::Stored { shown, .. } => shown.clone()?,
                };
                Some((name.to_string(), shown))
            })
            .collect()
    }

    /// The backend fields of every state that has them, for a save.
    pub(crate) fn backend(&self) -> Map<String, Value> {
        self.entries
            .iter()
            .filter_map(|(name, entry)| {
                let backend = match entry {
                    Entry::Live(state) => state.backend().unwrap_or_else(|error| {
                        tracing::error!(state = %name, %error, "backend fields do not serialise");
                        None
                    }),
                    Entry::Stored { backend, .. } => backend.clone(),
                };
                Some((name.to_string(), backend?))
            })
            .collect()
    }

    /// One state, backend fields included; its default if there is none,
    /// or one that does not read as `S`.
    pub(crate) fn state<S: State>(&self) -> S {
        match self.entries.iter().find(|(name, _)| name == S::NAME) {
            Some((_, Entry::Live(state))) => downcast::<S>(&**state).clone(),
            Some((_, Entry::Stored { shown, backend })) => {
                let shown = shown.clone().unwrap_or_else(|| Value::Object(Map::new()));
                S::restore(shown, backend.clone()).unwrap_or_default()
            }
            None => S::default(),
        }
    }

    /// Applies an owner's ops, on a Redis follower (which holds only
    /// stored entries); false if they do not apply.
    pub(crate) fn patch(&mut self, ops: &[PatchOperation]) -> bool {
        let mut document = Value::Object(self.document());
        let applied = json_patch::patch(&mut document, ops).is_ok();
        if let Value::Object(document) = document {
            *self = Self::stored(document, self.backend());
        }
        applied
    }
}
