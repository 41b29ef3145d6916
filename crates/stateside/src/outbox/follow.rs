//! A Redis follower's outbox: it publishes nothing of its own, but follows
//! what the owner on another instance published with each save, so the tabs
//! connected here see the same versions as the owner's own.

use std::sync::Arc;

use stateside_wire::ServerMessage;

use super::Outbox;
use crate::store::record::StoredSession;

impl Outbox {
    /// Follows what the owner on another instance published with a save
    /// that stored everything up to `through`. Returns false when an update
    /// is missing (this instance missed a publish): the caller then reloads
    /// the record with [`reset`](Self::reset).
    pub(crate) fn follow(&mut self, messages: Vec<ServerMessage>, through: u64) -> bool {
        for message in messages {
            let ServerMessage::Update(mut update) = message else {
                continue;
            };
            let versioned = !update.ops.is_empty();
            if versioned {
                if update.version <= self.version {
                    continue; // already in the record this copy started from
                }
                let applied = update.version == self.version + 1 && self.shown.patch(&update.ops);
                if !applied {
                    return false;
                }
                self.version = update.version;
            } else if update.version < self.version {
                continue;
            } else if update.version > self.version {
                // An ack at a version this copy never had: a publish was
                // missed, or a takeover renumbered. Reload, which tells the
                // tabs with a snapshot, rather than pass the version on
                // without the document that goes with it.
                return false;
            }
            update.acked = update.acked.max(self.acked);
            self.acked = update.acked;
            let message = Arc::new(ServerMessage::Update(update));
            if versioned {
                self.remember(&message);
            }
            self.send_local(message);
        }
        self.confirm_persisted(through);
        true
    }

    /// Starts over from a record, telling live streams with a snapshot.
    pub(crate) fn reset(&mut self, stored: StoredSession) {
        self.version = stored.version;
        self.shown = super::Shown::stored(stored.document, stored.backend);
        self.acked = self.acked.max(stored.applied_through);
        self.ring.clear();
        let snapshot = self.snapshot();
        self.send_local(snapshot);
    }
}
