//! The trait every piece of session state implements.
//!
//! Most states derive it (`#[derive(State)]`, from `stateside-macros`),
//! which writes the change tracking field by field. The provided methods are
//! the manual path: a hand-written `impl State` with only `NAME` works, and
//! pays for it by serialising the whole state on every change.

use json_patch::{PatchOperation, jsonptr::Pointer};
use serde::{Serialize, de::DeserializeOwned};
use serde_json::Value;

use crate::{ClientField, StoredTextError, json_size, tracked::diff_at};

/// A struct of session state, addressed on the wire by its `NAME`.
///
/// A session holds one value of each state type it has touched, and the
/// client sees them as one JSON document `{ NAME: value, .. }`. Its
/// `Serialize` is what clients are shown; its `Deserialize` must read that
/// back (the browser does). The trait lives in the wire crate because the
/// browser needs `NAME` to find its copy.
///
/// ```
/// use stateside_wire::{List, State};
///
/// #[derive(Clone, Default, State)]
/// struct Chat {
///     messages: List<String>,
///     #[computed(count(messages))]
///     unread: usize,
///     #[backend]
///     moderation_notes: String,
/// }
///
/// fn count(messages: &List<String>) -> usize {
///     messages.len()
/// }
///
/// let mut chat = Chat::initial();
/// chat.messages.push("hello".to_owned());
/// chat.moderation_notes = "kept on the server".to_owned();
/// // `unread` catches up when the change is published (`State::changes`).
/// // What a browser is shown has no backend field.
/// let shown = serde_json::to_value(&chat).unwrap();
/// assert_eq!(shown, serde_json::json!({ "messages": ["hello"], "unread": 0 }));
/// assert_eq!(Chat::NAME, "chat");
/// ```
pub trait State: Clone + Default + Serialize + DeserializeOwned + 'static {
    /// The key of this state in the session document. Must be unique per app.
    const NAME: &'static str;

    /// Whether clients see this state at all: `false` for a state whose
    /// every field is `#[backend]`, which stores keep but which is never
    /// part of the document a browser holds.
    const SHOWN: bool = true;

    /// Appends to `ops` what takes `before`, this state as its clients last
    /// saw it, to `self`, with every path under `path`; brings computed
    /// fields up to date first, and clears the journals of tracked
    /// collections. Returns the size of `self` as JSON, for the session's
    /// byte budget.
    ///
    /// The default serialises both values and diffs them: its cost grows
    /// with the state, not with the change. `#[derive(State)]` does better.
    ///
    /// # Errors
    ///
    /// A value that does not serialise.
    fn changes(
        &mut self,
        before: &Self,
        path: &Pointer,
        ops: &mut Vec<PatchOperation>,
    ) -> serde_json::Result<usize> {
        let old = serde_json::to_value(before)?;
        let new = serde_json::to_value(&*self)?;
        diff_at(path, &old, &new, ops);
        Ok(json_size(&new))
    }

    /// The fields a store keeps but clients never see (`#[backend]`), as a
    /// JSON object, or `None` if the state has none.
    ///
    /// # Errors
    ///
    /// A value that does not serialise.
    fn backend(&self) -> serde_json::Result<Option<Value>> {
        Ok(None)
    }

    /// The state a store kept: what its clients were shown, and its
    /// backend fields. Computed fields are recomputed, never read back.
    ///
    /// # Errors
    ///
    /// A value that does not read as this state.
    fn restore(shown: Value, backend: Option<Value>) -> serde_json::Result<Self> {
        let _ = backend;
        serde_json::from_value(shown)
    }

    /// A state the session has never had: its default, with computed
    /// fields computed.
    fn initial() -> Self {
        Self::default()
    }

    /// The fields the browser keeps (`#[client(local = "key")]`,
    /// `session`, `cookie`): read into the session when a tab's page
    /// loads, written back when they change.
    const CLIENT_FIELDS: &'static [ClientField] = &[];

    /// Sets the client field `field` from the text the browser held
    /// (`None`: no entry, so the field's default), leaving it as it was if
    /// the text does not read (see [`from_text`](crate::from_text)).
    ///
    /// # Errors
    ///
    /// The text is too long or does not read as the field, or the state
    /// keeps no such field in the browser.
    fn set_client_field(&mut self, field: &str, text: Option<&str>) -> Result<(), StoredTextError> {
        let _ = text;
        Err(StoredTextError::UnknownField(field.to_owned()))
    }
}
