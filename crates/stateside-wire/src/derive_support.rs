//! What `#[derive(State)]` expands to calls: not a public API.
//!
//! A field of a type that implements [`Tracked`] publishes its journal; any
//! other field is serialised and diffed. The choice is made per field type
//! at compile time by autoref specialisation: the expansion calls
//! `(&&Probe::<T>::new()).kind()`, and method lookup finds the
//! [`ViaJournal`] impl (on `&Probe<T>`, `T: Tracked`) before the
//! [`ViaDiff`] one (on `Probe<T>`), so a type alias or a user's own tracked
//! type is handled the same as `List` and `Map`.

use std::marker::PhantomData;

use json_patch::{
    PatchOperation,
    jsonptr::{PointerBuf, Token},
};
use serde::Serialize;

pub use json_patch::jsonptr::Pointer;
pub use serde;
pub use serde_json;

use crate::{Tracked, json_size, tracked::diff_at};

/// Names a field's type for the kind lookup.
pub struct Probe<T>(PhantomData<T>);

impl<T> Probe<T> {
    #[allow(clippy::new_without_default)]
    pub fn new() -> Self {
        Self(PhantomData)
    }
}

/// Picked for a field whose type is [`Tracked`].
pub trait ViaJournal {
    fn kind(&self) -> JournalKind {
        JournalKind
    }
}

impl<T: Tracked> ViaJournal for &Probe<T> {}

/// Picked for every other field.
pub trait ViaDiff {
    fn kind(&self) -> DiffKind {
        DiffKind
    }
}

impl<T: Serialize> ViaDiff for Probe<T> {}

pub struct JournalKind;

impl JournalKind {
    pub fn changed<T: Tracked>(self, now: &T, before: &T) -> serde_json::Result<bool> {
        Ok(now.changed_since(before))
    }

    pub fn changes<T: Tracked>(
        self,
        now: &mut T,
        before: &T,
        path: &Pointer,
        ops: &mut Vec<PatchOperation>,
    ) -> serde_json::Result<usize> {
        now.take_changes(before, path, ops)
    }

    pub fn forget<T: Tracked>(self, now: &mut T) {
        now.forget_changes();
    }
}

pub struct DiffKind;

impl DiffKind {
    pub fn changed<T: Serialize>(self, now: &T, before: &T) -> serde_json::Result<bool> {
        Ok(serde_json::to_value(now)? != serde_json::to_value(before)?)
    }

    pub fn changes<T: Serialize>(
        self,
        now: &mut T,
        before: &T,
        path: &Pointer,
        ops: &mut Vec<PatchOperation>,
    ) -> serde_json::Result<usize> {
        let new = serde_json::to_value(&*now)?;
        let old = serde_json::to_value(before)?;
        diff_at(path, &old, &new, ops);
        Ok(json_size(&new))
    }

    pub fn forget<T>(self, _now: &mut T) {}
}

/// `path/field`.
pub fn field_path(path: &Pointer, field: &'static str) -> PointerBuf {
    let mut path = path.to_buf();
    path.push_back(Token::new(field));
    path
}

/// The bytes a field's name adds to its state's JSON: quotes, colon, comma.
pub fn field_overhead(field: &'static str) -> usize {
    field.len() + 4
}
