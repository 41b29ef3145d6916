//! The client's copy of a session document, kept in step by the stream.

use json_patch::PatchOperation;
use serde_json::Value;

use crate::{ServerMessage, State, Update};

/// A session document at a known version.
///
/// Applying a message either moves the copy forward by exactly what the
/// server did, or refuses: a gap in versions means a message was missed, and
/// the only safe recovery is a resync, never a guess.
#[derive(Clone, Debug, PartialEq)]
pub struct Document {
    version: u64,
    acked: u64,
    value: Value,
}

impl Default for Document {
    /// Version 0 is the empty document: no state has been created yet.
    fn default() -> Self {
        Self {
            version: 0,
            acked: 0,
            value: Value::Object(Default::default()),
        }
    }
}

/// Why a message could not be applied: the copy is unchanged, and only a
/// resync from a snapshot recovers it.
#[derive(Debug, PartialEq, Eq)]
pub enum ApplyError {
    /// The update does not follow the version we hold.
    Gap {
        /// The version the copy holds.
        have: u64,
        /// The update's version.
        got: u64,
    },
    /// The ops do not fit the document (a server bug, or a corrupt stream).
    Patch(String),
}

impl std::fmt::Display for ApplyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Gap { have, got } => write!(f, "version gap: have {have}, got {got}"),
            Self::Patch(why) => write!(f, "patch does not apply: {why}"),
        }
    }
}

impl std::error::Error for ApplyError {}

impl Document {
    /// The server's version this copy is at.
    pub fn version(&self) -> u64 {
        self.version
    }

    /// The highest event seq the server has confirmed applying.
    pub fn acked(&self) -> u64 {
        self.acked
    }

    /// The whole document: `{ NAME: state, .. }`.
    pub fn value(&self) -> &Value {
        &self.value
    }

    /// This document's copy of one state, or its default if the server has
    /// not created it yet.
    pub fn state<S: State>(&self) -> Result<S, serde_json::Error> {
        match self.value.get(S::NAME) {
            Some(value) => S::deserialize(value),
            None => Ok(S::default()),
        }
    }

    /// Applies one stream message. Stale updates (already applied) are
    /// ignored, so a replay that overlaps what we hold is harmless. A
    /// refused message changes nothing, not even `acked`: the copy is
    /// always exactly some state the server sent.
    pub fn apply(&mut self, message: &ServerMessage) -> Result<(), ApplyError> {
        match message {
            ServerMessage::Snapshot {
                version,
                acked,
                state,
            } => {
                self.version = *version;
                self.acked = self.acked.max(*acked);
                self.value = state.clone();
                Ok(())
            }
            ServerMessage::Update(update) => self.apply_update(update),
        }
    }

    fn apply_update(&mut self, update: &Update) -> Result<(), ApplyError> {
        if !update.ops.is_empty() && update.version > self.version {
            if update.version != self.version + 1 {
                return Err(ApplyError::Gap {
                    have: self.version,
                    got: update.version,
                });
            }
            patch_atomically(&mut self.value, &update.ops)?;
            self.version = update.version;
        }
        self.acked = self.acked.max(update.acked);
        Ok(())
    }
}

/// Applies every op or none. `json_patch::patch` undoes the earlier ops when
/// a later one fails, but panics when it cannot undo a `move` (one to the
/// root, found by the `patch_apply` fuzz target). So a patch with a move is
/// applied to a copy, kept only if every op applies; the server's diffs
/// never contain one, so the usual path copies nothing.
fn patch_atomically(value: &mut Value, ops: &[PatchOperation]) -> Result<(), ApplyError> {
    let refused = |error: json_patch::PatchError| ApplyError::Patch(error.to_string());
    if !ops.iter().any(|op| matches!(op, PatchOperation::Move(_))) {
        return json_patch::patch(value, ops).map_err(refused);
    }
    let mut copy = value.clone();
    json_patch::patch_unsafe(&mut copy, ops).map_err(refused)?;
    *value = copy;
    Ok(())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    /// Found by the `patch_apply` fuzz target: a refused update used to
    /// raise `acked` on its way to the refusal.
    #[test]
    fn a_refused_update_changes_nothing() {
        let mut document = Document::default();
        let ops: json_patch::Patch =
            serde_json::from_value(json!([{ "op": "remove", "path": "/missing" }])).unwrap();
        for version in [1, 3] {
            let update = ServerMessage::Update(Update {
                version,
                ops: ops.0.clone(),
                acked: 84,
                ..Update::default()
            });
            let before = document.clone();
            assert!(document.apply(&update).is_err());
            assert_eq!(document, before);
        }
    }

    /// Found by the `patch_apply` fuzz target: json-patch panicked undoing
    /// a move to the root when a later op failed.
    #[test]
    fn a_failing_patch_after_a_move_to_the_root_is_refused() {
        let mut document = Document::default();
        let ops: json_patch::Patch = serde_json::from_value(json!([
            { "op": "add", "path": "", "value": [[]] },
            { "op": "move", "from": "/0", "path": "" },
            { "op": "remove", "path": "" },
        ]))
        .unwrap();
        let update = ServerMessage::Update(Update {
            version: 1,
            ops: ops.0,
            ..Update::default()
        });
        let before = document.clone();
        assert!(matches!(document.apply(&update), Err(ApplyError::Patch(_))));
        assert_eq!(document, before);
    }
}
