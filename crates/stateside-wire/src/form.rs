//! Per-field validation errors, kept in a state so that the server decides
//! what is valid and the page shows each message beside its field.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// What a handler found wrong with a form, by field name. Put one in the
/// form's state; the handler clears it, checks the arguments, and adds a
/// message per bad field; the view shows each beside its input.
///
/// ```
/// use stateside_wire::FieldErrors;
///
/// let mut errors = FieldErrors::default();
/// errors.add("email", "An email address has an @");
/// assert_eq!(errors.get("email"), Some("An email address has an @"));
/// assert!(!errors.is_empty());
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct FieldErrors(BTreeMap<String, String>);

impl FieldErrors {
    /// Records what is wrong with `field` (the first message stays).
    pub fn add(&mut self, field: &str, message: impl Into<String>) {
        self.0
            .entry(field.to_owned())
            .or_insert_with(|| message.into());
    }

    /// The message for `field`, if it is wrong.
    pub fn get(&self, field: &str) -> Option<&str> {
        self.0.get(field).map(String::as_str)
    }

    /// Whether every field is fine.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Forgets every message, before checking again.
    pub fn clear(&mut self) {
        self.0.clear();
    }
}
