//! All the states of one session, with the bookkeeping that makes patches
//! and rollback cheap.
//!
//! Each state remembers whether it was borrowed mutably since the last
//! commit, and keeps a clone of itself from before that borrow. A commit
//! then serialises only the states that may have changed, and a rollback
//! restores only those, without a round trip through JSON (which would lose
//! fields marked `#[serde(skip)]`).
//!
//! A commit also keeps each state's serialised size, so that a session's
//! states together stay within `Config::max_state_bytes`: one tab cannot
//! grow server memory, saves and snapshots without bound.

use std::any::{Any, TypeId};

use json_patch::PatchOperation;
use serde_json::{Map, Value};

use stateside_wire::State;

use crate::budget::json_size;

/// The bounds a state needs to live in a session shared across threads.
pub trait SessionState: State + Send + Sync {}
impl<S: State + Send + Sync> SessionState for S {}

trait ErasedState: Any + Send + Sync {
    fn to_json(&self) -> serde_json::Result<Value>;
    fn clone_box(&self) -> Box<dyn ErasedState>;
    fn as_any(&self) -> &dyn Any;
    fn as_any_mut(&mut self) -> &mut dyn Any;
}

impl<S: SessionState> ErasedState for S {
    fn to_json(&self) -> serde_json::Result<Value> {
        serde_json::to_value(self)
    }
    fn clone_box(&self) -> Box<dyn ErasedState> {
        Box::new(self.clone())
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
    fn as_any_mut(&mut self) -> &mut dyn Any {
        self
    }
}

struct Slot {
    name: &'static str,
    type_id: TypeId,
    value: Box<dyn ErasedState>,
    /// The value as of the last commit; `Some` exactly when the state may
    /// have changed since then.
    baseline: Option<Box<dyn ErasedState>>,
    /// Its size as JSON at the last commit (0 before the first).
    bytes: usize,
}

/// The states of a session. A session has few state types, so a short
/// vector searched by `TypeId` beats a map.
#[derive(Default)]
pub struct StateMap {
    slots: Vec<Slot>,
    /// States restored from a store, as JSON until first used: only then is
    /// their Rust type known.
    dormant: Map<String, Value>,
}

impl StateMap {
    /// The states of a restored session, from its published document.
    pub(crate) fn restored(document: Map<String, Value>) -> Self {
        Self {
            slots: Vec::new(),
            dormant: document,
        }
    }

    /// Read access. A state the session has never touched reads as its
    /// default, created on the spot (like a Reflex substate).
    pub fn get<S: SessionState>(&mut self) -> &S {
        let index = self.index_of::<S>();
        downcast(&*self.slots[index].value)
    }

    /// Write access: marks the state as possibly changed.
    pub fn get_mut<S: SessionState>(&mut self) -> &mut S {
        let index = self.index_of::<S>();
        let slot = &mut self.slots[index];
        if slot.baseline.is_none() {
            slot.baseline = Some(slot.value.clone_box());
        }
        downcast_mut(&mut *slot.value)
    }

    /// Ensures `S` exists, so that later reads through `&self` cannot miss.
    pub(crate) fn ensure<S: SessionState>(&mut self) {
        self.index_of::<S>();
    }

    /// Read access to a state that [`ensure`](Self::ensure) created.
    pub(crate) fn existing<S: SessionState>(&self) -> &S {
        let slot = self
            .slots
            .iter()
            .find(|slot| slot.type_id == TypeId::of::<S>())
            .expect("state was ensured before this borrow");
        downcast(&*slot.value)
    }

    /// The ops that take `published` (the client's view) to the current
    /// states, updating `published`. Unchanged states cost nothing.
    ///
    /// All or nothing: every changed state is serialised, and the total
    /// checked against `max_bytes`, before `published` or any baseline is
    /// touched, so a state that fails leaves the others as they were, for
    /// [`rollback`](Self::rollback) to undo as one.
    pub(crate) fn commit(
        &mut self,
        published: &mut Map<String, Value>,
        max_bytes: usize,
    ) -> Result<Vec<PatchOperation>, CommitError> {
        let changed = self
            .slots
            .iter()
            .enumerate()
            .filter(|(_, slot)| slot.baseline.is_some())
            .map(|(index, slot)| {
                let value = slot.value.to_json()?;
                let bytes = json_size(&value);
                Ok((index, value, bytes))
            })
            .collect::<serde_json::Result<Vec<_>>>()?;
        let unchanged: usize = self
            .slots
            .iter()
            .filter(|slot| slot.baseline.is_none())
            .map(|slot| slot.bytes)
            .sum();
        let total = unchanged + changed.iter().map(|(_, _, bytes)| bytes).sum::<usize>();
        if total > max_bytes {
            return Err(CommitError::TooLarge {
                bytes: total,
                limit: max_bytes,
            });
        }
        let mut ops = Vec::new();
        for (index, value, bytes) in changed {
            let slot = &mut self.slots[index];
            let new = keyed(slot.name, Some(value));
            let old = keyed(slot.name, published.remove(slot.name));
            // Diffing two one-key objects lets the crate write the `/NAME`
            // prefix, and the `add` for a state the client has never seen.
            ops.extend(json_patch::diff(&old, &new).0);
            if let Value::Object(new) = new {
                published.extend(new);
            }
            slot.baseline = None;
            slot.bytes = bytes;
        }
        // The ops stay in the replay ring while the session idles.
        ops.shrink_to_fit();
        Ok(ops)
    }

    /// Puts every changed state back as it was at the last commit.
    pub(crate) fn rollback(&mut self) {
        for slot in &mut self.slots {
            if let Some(baseline) = slot.baseline.take() {
                slot.value = baseline;
            }
        }
    }

    fn index_of<S: SessionState>(&mut self) -> usize {
        let type_id = TypeId::of::<S>();
        if let Some(index) = self.slots.iter().position(|slot| slot.type_id == type_id) {
            return index;
        }
        let slot = match self
            .dormant
            .remove(S::NAME)
            .map(serde_json::from_value::<S>)
        {
            // Clients already have it: not a change.
            Some(Ok(restored)) => Slot {
                name: S::NAME,
                type_id,
                bytes: json_size(&restored),
                value: Box::new(restored),
                baseline: None,
            },
            unknown => {
                if let Some(Err(error)) = unknown {
                    tracing::warn!(state = S::NAME, %error, "stored state unreadable; using the default");
                }
                // A new state counts as changed, so the next commit sends it.
                Slot {
                    name: S::NAME,
                    type_id,
                    value: Box::new(S::default()),
                    baseline: Some(Box::new(S::default())),
                    bytes: 0,
                }
            }
        };
        // A session has a state or three: no room kept for four.
        self.slots.reserve_exact(1);
        self.slots.push(slot);
        self.slots.len() - 1
    }
}

/// Why a commit did not happen.
#[derive(Debug, thiserror::Error)]
pub(crate) enum CommitError {
    #[error("a state does not serialise: {0}")]
    Serialise(#[from] serde_json::Error),
    #[error(
        "the session's state would be {} KiB, over its limit of {} KiB",
        bytes.div_ceil(1024),
        limit / 1024
    )]
    TooLarge { bytes: usize, limit: usize },
}

/// `{name: value}`, or `{}` when there is no value.
fn keyed(name: &str, value: Option<Value>) -> Value {
    Value::Object(value.map_or_else(Map::new, |v| Map::from_iter([(name.to_owned(), v)])))
}

fn downcast<S: 'static>(value: &dyn ErasedState) -> &S {
    value
        .as_any()
        .downcast_ref()
        .expect("slot type matches its TypeId")
}

fn downcast_mut<S: 'static>(value: &mut dyn ErasedState) -> &mut S {
    value
        .as_any_mut()
        .downcast_mut()
        .expect("slot type matches its TypeId")
}
