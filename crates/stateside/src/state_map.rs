//! All the states of one session, with the bookkeeping that makes patches
//! cost what the change costs, and rollback cheap.
//!
//! Each state's value sits behind an `Arc` that the outbox shares once it
//! is published: the published value is what snapshots and saves read, and
//! what the next patch is computed against. The first write in a lock
//! section takes a working copy (cheap: tracked collections share their
//! items), so the published value stays as it was; a commit asks the copy
//! for its changes since (`State::changes`) and publishes it, and a
//! rollback drops it. Only states written since the last commit cost
//! anything, and a hand-written `State` without tracking still works by
//! serialising and diffing.
//!
//! A commit also keeps each state's size as JSON, so that a session's
//! states together stay within `Config::max_state_bytes`: one tab cannot
//! grow server memory, saves and snapshots without bound.

use std::{
    any::{Any, TypeId},
    sync::Arc,
};

use json_patch::{
    AddOperation, PatchOperation,
    jsonptr::{Pointer, PointerBuf},
};
use serde_json::{Map, Value};

use stateside_wire::State;

use crate::budget::json_size;

/// The bounds a state needs to live in a session shared across threads.
pub trait SessionState: State + Send + Sync {}
impl<S: State + Send + Sync> SessionState for S {}

/// A state of any type, as the session and its outbox hold it.
pub(crate) trait ErasedState: Any + Send + Sync {
    /// What clients are shown.
    fn shown(&self) -> serde_json::Result<Value>;
    /// The `#[backend]` fields, for stores.
    fn backend(&self) -> serde_json::Result<Option<Value>>;
    /// `State::SHOWN`.
    fn is_shown(&self) -> bool;
    /// See `State::changes`; `before` is of the same type.
    fn changes(
        &mut self,
        before: &dyn ErasedState,
        path: &Pointer,
        ops: &mut Vec<PatchOperation>,
    ) -> serde_json::Result<usize>;
    /// A copy to change while this one stays published.
    fn working_copy(&self) -> Arc<dyn ErasedState>;
    fn as_any(&self) -> &dyn Any;
    fn as_any_mut(&mut self) -> &mut dyn Any;
}

impl<S: SessionState> ErasedState for S {
    fn shown(&self) -> serde_json::Result<Value> {
        serde_json::to_value(self)
    }
    fn backend(&self) -> serde_json::Result<Option<Value>> {
        State::backend(self)
    }
    fn is_shown(&self) -> bool {
        S::SHOWN
    }
    fn changes(
        &mut self,
        before: &dyn ErasedState,
        path: &Pointer,
        ops: &mut Vec<PatchOperation>,
    ) -> serde_json::Result<usize> {
        State::changes(self, downcast(before), path, ops)
    }
    fn working_copy(&self) -> Arc<dyn ErasedState> {
        Arc::new(self.clone())
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
    fn as_any_mut(&mut self) -> &mut dyn Any {
        self
    }
}

/// Where a session's published states go: the outbox's document.
pub(crate) trait Publish {
    fn publish(&mut self, name: &'static str, state: Arc<dyn ErasedState>);
}

struct Slot {
    name: &'static str,
    type_id: TypeId,
    value: Arc<dyn ErasedState>,
    /// The value as of the last commit, while `value` is a working copy:
    /// `Some` exactly when the state may have changed since then.
    baseline: Option<Arc<dyn ErasedState>>,
    /// Whether clients have this state: a new one is sent whole.
    sent: bool,
    /// Its size as JSON at the last commit (0 before the first).
    bytes: usize,
}

/// The states of a session. A session has few state types, so a short
/// vector searched by `TypeId` beats a map.
#[derive(Default)]
pub struct StateMap {
    slots: Vec<Slot>,
    /// States restored from a store, as JSON until first used: only then is
    /// their Rust type known. By name: what clients were shown, and the
    /// backend fields.
    dormant: Map<String, Value>,
    dormant_backend: Map<String, Value>,
}

impl StateMap {
    /// The states of a restored session, from its stored document and
    /// backend fields.
    pub(crate) fn restored(document: Map<String, Value>, backend: Map<String, Value>) -> Self {
        Self {
            slots: Vec::new(),
            dormant: document,
            dormant_backend: backend,
        }
    }

    /// Read access. A state the session has never touched reads as its
    /// initial value, created on the spot (like a Reflex substate).
    pub fn get<S: SessionState>(&mut self) -> &S {
        let index = self.index_of::<S>();
        downcast(&*self.slots[index].value)
    }

    /// Write access: marks the state as possibly changed.
    pub fn get_mut<S: SessionState>(&mut self) -> &mut S {
        let index = self.index_of::<S>();
        let slot = &mut self.slots[index];
        if slot.baseline.is_none() {
            let working = slot.value.working_copy();
            slot.baseline = Some(std::mem::replace(&mut slot.value, working));
        }
        let working = Arc::get_mut(&mut slot.value).expect("a working copy is the slot's alone");
        working
            .as_any_mut()
            .downcast_mut()
            .expect("slot type matches its TypeId")
    }

    /// `S`'s value as last committed, to share with readers: call it with
    /// no change pending (right after a commit, or on a fresh map).
    pub(crate) fn committed<S: SessionState>(&mut self) -> Arc<dyn ErasedState> {
        let index = self.index_of::<S>();
        let slot = &self.slots[index];
        Arc::clone(slot.baseline.as_ref().unwrap_or(&slot.value))
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

    /// The ops that take what clients were shown to the current states,
    /// publishing each changed state to `published`. Unchanged states cost
    /// nothing; a changed one costs what `State::changes` costs.
    ///
    /// All or nothing: every changed state's ops are computed, and the
    /// total size checked against `max_bytes`, before anything is
    /// published, so a state that fails leaves the others as they were,
    /// for [`rollback`](Self::rollback) to undo as one.
    pub(crate) fn commit(
        &mut self,
        published: &mut impl Publish,
        max_bytes: usize,
    ) -> Result<Vec<PatchOperation>, CommitError> {
        let mut ops = Vec::new();
        let mut total = 0;
        let mut changed = Vec::new();
        for (index, slot) in self.slots.iter_mut().enumerate() {
            let Some(baseline) = &slot.baseline else {
                total += slot.bytes;
                continue;
            };
            let working =
                Arc::get_mut(&mut slot.value).expect("a working copy is the slot's alone");
            let path = PointerBuf::from_tokens([slot.name]);
            let bytes = if !working.is_shown() {
                // Stored, never sent: its journals still need emptying.
                working.changes(&**baseline, &path, &mut Vec::new())?
            } else if slot.sent {
                working.changes(&**baseline, &path, &mut ops)?
            } else {
                // New to clients: sent whole, once its computed fields and
                // journals are settled.
                working.changes(&**baseline, &path, &mut Vec::new())?;
                let value = working.shown()?;
                let bytes = json_size(&value);
                ops.push(PatchOperation::Add(AddOperation { path, value }));
                bytes
            };
            total += bytes;
            changed.push((index, bytes));
        }
        if total > max_bytes {
            return Err(CommitError::TooLarge {
                bytes: total,
                limit: max_bytes,
            });
        }
        for (index, bytes) in changed {
            let slot = &mut self.slots[index];
            published.publish(slot.name, Arc::clone(&slot.value));
            slot.baseline = None;
            slot.sent = true;
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
        let shown = self.dormant.remove(S::NAME);
        let backend = self.dormant_backend.remove(S::NAME);
        let stored = (shown.is_some() || backend.is_some()).then(|| {
            let shown = shown.unwrap_or_else(|| Value::Object(Map::new()));
            S::restore(shown, backend)
        });
        let slot = match stored {
            // Clients already have it: not a change.
            Some(Ok(restored)) => Slot {
                name: S::NAME,
                type_id,
                bytes: json_size(&restored),
                value: Arc::new(restored),
                baseline: None,
                sent: true,
            },
            unknown => {
                if let Some(Err(error)) = unknown {
                    tracing::warn!(state = S::NAME, %error, "stored state unreadable; using the initial one");
                }
                // A new state counts as changed, so the next commit sends it.
                let value: Arc<dyn ErasedState> = Arc::new(S::initial());
                Slot {
                    name: S::NAME,
                    type_id,
                    baseline: Some(value.clone()),
                    value: value.working_copy(),
                    sent: false,
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

pub(crate) fn downcast<S: 'static>(value: &dyn ErasedState) -> &S {
    value
        .as_any()
        .downcast_ref()
        .expect("slot type matches its TypeId")
}
