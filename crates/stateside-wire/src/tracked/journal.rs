//! The steps a tracked collection took since it was last published.

use std::sync::atomic::{AtomicU64, Ordering};

use json_patch::{
    AddOperation, PatchOperation, RemoveOperation, ReplaceOperation,
    jsonptr::{Pointer, PointerBuf, Token},
};
use serde::Serialize;
use serde_json::Value;

use crate::json_size;

/// Steps beyond the collection's length are not worth keeping: sending it
/// whole is smaller. A few spare steps spare a tiny list that churn.
const SPARE_STEPS: usize = 16;

/// The most steps a journal keeps. A collection nested inside a plain
/// field is diffed with that field, and nothing ever empties its journal:
/// this bounds what it holds, and what each copy of the state copies.
/// A section that changes a top-level collection more often than this
/// sends it whole.
const MAX_STEPS: usize = 256;

/// A collection's steps since it was last published, and what they did to
/// its size.
#[derive(Clone, Debug)]
pub(super) struct Journal {
    /// Which published value the steps start from (see the module docs).
    epoch: u64,
    steps: Vec<Step>,
    /// Too many steps, or one whose value did not serialise: the next
    /// flush sends the collection whole.
    overflowed: bool,
    /// The collection's size as JSON, once measured; each step's delta
    /// keeps it current without serialising the rest.
    bytes: Option<usize>,
}

/// One change, relative to the collection (`at` is a key or an index).
#[derive(Clone, Debug)]
enum Step {
    Add {
        at: String,
        value: Value,
    },
    Remove {
        at: String,
    },
    Replace {
        at: String,
        value: Value,
    },
    /// Emptied: `replace` of the whole collection with an empty one.
    Clear {
        empty: Value,
    },
}

fn next_epoch() -> u64 {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

impl Default for Journal {
    fn default() -> Self {
        Self {
            epoch: next_epoch(),
            steps: Vec::new(),
            overflowed: false,
            bytes: None,
        }
    }
}

/// A step and the change in size it makes, once its value is serialised.
struct Sized {
    step: Step,
    delta: isize,
}

impl Journal {
    /// An item added at `at` (`"-"`: the end); `entry_overhead` is the
    /// bytes around it (comma, key).
    pub(super) fn add(
        &mut self,
        at: String,
        item: &impl Serialize,
        entry_overhead: usize,
        len: usize,
    ) {
        self.record(len, || {
            let value = serde_json::to_value(item)?;
            let delta = (json_size(&value) + entry_overhead) as isize;
            Ok(Sized {
                step: Step::Add { at, value },
                delta,
            })
        });
    }

    /// The item at `at` removed.
    pub(super) fn remove(
        &mut self,
        at: String,
        item: &impl Serialize,
        entry_overhead: usize,
        len: usize,
    ) {
        self.record(len, || {
            let delta = -((json_size(item) + entry_overhead) as isize);
            Ok(Sized {
                step: Step::Remove { at },
                delta,
            })
        });
    }

    /// The item at `at` replaced by `item`.
    pub(super) fn replace(
        &mut self,
        at: String,
        old: &impl Serialize,
        item: &impl Serialize,
        len: usize,
    ) {
        self.record(len, || {
            let value = serde_json::to_value(item)?;
            let delta = json_size(&value) as isize - json_size(old) as isize;
            Ok(Sized {
                step: Step::Replace { at, value },
                delta,
            })
        });
    }

    /// Emptied, to `empty` (`[]` or `{}`).
    pub(super) fn clear(&mut self, empty: Value) {
        // Nothing before a clear matters any more.
        self.steps.clear();
        self.overflowed = false;
        self.bytes = Some(json_size(&empty));
        self.steps.push(Step::Clear { empty });
    }

    fn record(&mut self, len: usize, step: impl FnOnce() -> serde_json::Result<Sized>) {
        if self.overflowed {
            return;
        }
        if self.steps.len() >= (len + SPARE_STEPS).min(MAX_STEPS) {
            return self.overflow();
        }
        match step() {
            Ok(Sized { step, delta }) => {
                self.bytes = self.bytes.map(|bytes| bytes.saturating_add_signed(delta));
                self.steps.push(step);
            }
            // The whole collection is serialised at the flush, which
            // reports the error properly.
            Err(_) => self.overflow(),
        }
    }

    pub(super) fn overflow(&mut self) {
        self.steps = Vec::new();
        self.overflowed = true;
    }

    pub(super) fn changed_since(&self, before: &Self) -> bool {
        self.epoch != before.epoch || self.overflowed || !self.steps.is_empty()
    }

    /// Appends the ops since `before` under `path` and starts a new epoch.
    /// `whole` serialises the collection, for when the steps do not
    /// describe it; returns its size as JSON.
    pub(super) fn take(
        &mut self,
        before: &Self,
        path: &Pointer,
        ops: &mut Vec<PatchOperation>,
        whole: impl FnOnce() -> serde_json::Result<Value>,
    ) -> serde_json::Result<usize> {
        let exact = self.epoch == before.epoch && !self.overflowed;
        let steps = std::mem::take(&mut self.steps);
        let bytes = if exact {
            ops.extend(steps.into_iter().map(|step| step.into_op(path)));
            match self.bytes {
                Some(bytes) => bytes,
                // Measured once; kept current by the deltas from then on.
                None => json_size(&whole()?),
            }
        } else {
            let value = whole()?;
            let bytes = json_size(&value);
            ops.push(PatchOperation::Replace(ReplaceOperation {
                path: path.to_buf(),
                value,
            }));
            bytes
        };
        *self = Self {
            bytes: Some(bytes),
            ..Self::default()
        };
        Ok(bytes)
    }

    pub(super) fn forget(&mut self) {
        *self = Self::default();
    }
}

impl Step {
    fn into_op(self, path: &Pointer) -> PatchOperation {
        let at = |token: String| {
            let mut path: PointerBuf = path.to_buf();
            path.push_back(Token::new(token));
            path
        };
        match self {
            Self::Add { at: token, value } => PatchOperation::Add(AddOperation {
                path: at(token),
                value,
            }),
            Self::Remove { at: token } => {
                PatchOperation::Remove(RemoveOperation { path: at(token) })
            }
            Self::Replace { at: token, value } => PatchOperation::Replace(ReplaceOperation {
                path: at(token),
                value,
            }),
            Self::Clear { empty } => PatchOperation::Replace(ReplaceOperation {
                path: path.to_buf(),
                value: empty,
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A list nested in a plain field is never published by its journal,
    /// so nothing empties it: it must stop growing on its own.
    #[test]
    fn a_journal_nobody_empties_stays_small() {
        let mut journal = Journal::default();
        for len in 1..=10_000 {
            journal.add("-".to_owned(), &len, 1, len);
            assert!(journal.steps.len() <= MAX_STEPS);
        }
        assert!(journal.overflowed);
        assert!(journal.steps.is_empty());
    }
}
