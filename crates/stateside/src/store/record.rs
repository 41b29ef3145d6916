//! The record a store keeps of a session.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::StoreError;

/// A session as a store keeps it: what its client was shown, and which of
/// its client's events have been applied: all up to `applied_through`, and
/// those in `applied_ahead` (background starts that overtook a slow event). Server-only fields of a state
/// (`#[serde(skip)]`) are not part of it and come back as their defaults.
///
/// Generic over the document so the outbox can write one by reference.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct StoredSession<Document = Map<String, Value>> {
    pub(crate) version: u64,
    pub(crate) applied_through: u64,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) applied_ahead: Vec<u64>,
    pub(crate) document: Document,
}

impl StoredSession {
    pub(crate) fn decode(bytes: &[u8]) -> Result<Self, StoreError> {
        serde_json::from_slice(bytes).map_err(StoreError::new)
    }
}
