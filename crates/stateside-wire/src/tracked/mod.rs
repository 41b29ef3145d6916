//! Collections that know their changes ([`List`], [`Map`]), so that a
//! change to one item is one RFC 6902 op whatever the collection's size.
//!
//! Each collection keeps a journal of the steps taken since the session
//! last published it. The journal is only meaningful against the value it
//! started from, so it carries that value's *epoch*: a number handed out
//! afresh whenever a journal is emptied. A field compares its epoch with
//! the published value's: equal, and the journal is exact; different (the
//! field was assigned a whole new collection), and the flush sends the
//! field whole. Clones share the epoch and the journal, so a copy taken in
//! a handler and assigned back is still described exactly.
//!
//! Items are backed by `imbl`'s persistent structures, so that keeping the
//! published copy beside the one a handler changes costs a pointer, not a
//! copy of every item.

mod journal;
mod list;
mod map;

use json_patch::{PatchOperation, jsonptr::Pointer};
use serde_json::Value;

pub use list::List;
pub use map::Map;

/// A value that records its own changes. [`List`] and [`Map`] are the ones
/// Stateside provides; `#[derive(State)]` uses this trait for any field
/// whose type implements it, and serialise-and-diff for every other.
pub trait Tracked {
    /// Whether `self` differs from `before`, the value last published.
    fn changed_since(&self, before: &Self) -> bool;

    /// Appends the ops that take `before` to `self` under `path`, empties
    /// the journal, and returns the size of `self` as JSON.
    ///
    /// # Errors
    ///
    /// An item that does not serialise.
    fn take_changes(
        &mut self,
        before: &Self,
        path: &Pointer,
        ops: &mut Vec<PatchOperation>,
    ) -> serde_json::Result<usize>;

    /// Empties the journal without publishing it (a `#[backend]` field).
    fn forget_changes(&mut self);
}

/// Appends the ops `json_patch::diff` finds between `old` and `new`, each
/// moved under `path`.
pub(crate) fn diff_at(path: &Pointer, old: &Value, new: &Value, ops: &mut Vec<PatchOperation>) {
    ops.extend(
        json_patch::diff(old, new)
            .0
            .into_iter()
            .map(|op| under(path, op)),
    );
}

/// `op` with its paths moved under `prefix`.
fn under(prefix: &Pointer, op: PatchOperation) -> PatchOperation {
    let join = |path: &Pointer| prefix.concat(path);
    match op {
        PatchOperation::Add(mut op) => {
            op.path = join(&op.path);
            PatchOperation::Add(op)
        }
        PatchOperation::Remove(mut op) => {
            op.path = join(&op.path);
            PatchOperation::Remove(op)
        }
        PatchOperation::Replace(mut op) => {
            op.path = join(&op.path);
            PatchOperation::Replace(op)
        }
        PatchOperation::Move(mut op) => {
            op.path = join(&op.path);
            op.from = join(&op.from);
            PatchOperation::Move(op)
        }
        PatchOperation::Copy(mut op) => {
            op.path = join(&op.path);
            op.from = join(&op.from);
            PatchOperation::Copy(op)
        }
        PatchOperation::Test(mut op) => {
            op.path = join(&op.path);
            PatchOperation::Test(op)
        }
    }
}
