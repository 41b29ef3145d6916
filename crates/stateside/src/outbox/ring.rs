//! The replay ring: the latest versioned updates, so that a tab that
//! reconnects gets only what it missed. Bounded twice, in updates and in
//! bytes: a few large updates must not cost what the count allows for
//! small ones. A tab too far behind for the ring gets a snapshot, which is
//! never worse than replaying.

use std::{collections::VecDeque, sync::Arc};

use stateside_wire::ServerMessage;

use crate::budget::json_size;

pub(super) struct ReplayRing {
    /// Each update with its size as JSON, oldest first.
    updates: VecDeque<(Arc<ServerMessage>, usize)>,
    bytes: usize,
    max_updates: usize,
    max_bytes: usize,
}

impl ReplayRing {
    pub(super) fn new(max_updates: usize, max_bytes: usize) -> Self {
        Self {
            updates: VecDeque::new(),
            bytes: 0,
            max_updates,
            max_bytes,
        }
    }

    /// Keeps a versioned update, dropping the oldest ones past either bound.
    pub(super) fn remember(&mut self, update: &Arc<ServerMessage>) {
        let size = json_size(&**update);
        if self.max_updates == 0 || size > self.max_bytes {
            // It cannot fit: a tab that missed it needs a snapshot anyway.
            self.clear();
            return;
        }
        while self.updates.len() == self.max_updates || self.bytes + size > self.max_bytes {
            let Some((_, dropped)) = self.updates.pop_front() else {
                break;
            };
            self.bytes -= dropped;
        }
        self.updates.push_back((Arc::clone(update), size));
        self.bytes += size;
    }

    pub(super) fn clear(&mut self) {
        self.updates = VecDeque::new();
        self.bytes = 0;
    }

    /// The updates after version `since`, if the ring still has every one
    /// of them (the caller has checked that `since` is behind).
    pub(super) fn replay_from(&self, since: u64) -> Option<Vec<Arc<ServerMessage>>> {
        let (oldest, _) = self.updates.front()?;
        (oldest.version() <= since + 1).then(|| {
            self.updates
                .iter()
                .map(|(update, _)| update)
                .filter(|update| update.version() > since)
                .cloned()
                .collect()
        })
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;
    use stateside_wire::Update;

    use super::*;

    fn update(version: u64, text: &str) -> Arc<ServerMessage> {
        Arc::new(ServerMessage::Update(Update {
            version,
            ops: json_patch::diff(&json!({}), &json!({ "x": text })).0,
            ..Update::default()
        }))
    }

    fn versions(ring: &ReplayRing, since: u64) -> Option<Vec<u64>> {
        ring.replay_from(since)
            .map(|updates| updates.iter().map(|update| update.version()).collect())
    }

    #[test]
    fn keeps_the_latest_updates_within_both_bounds() {
        let mut ring = ReplayRing::new(3, 10_000);
        (1..=5).for_each(|version| ring.remember(&update(version, "small")));
        assert_eq!(versions(&ring, 2), Some(vec![3, 4, 5]));
        assert_eq!(versions(&ring, 1), None, "2 is gone: a snapshot");

        let size = json_size(&*update(1, &"x".repeat(1000)));
        let mut ring = ReplayRing::new(100, size * 2);
        (1..=4).for_each(|version| ring.remember(&update(version, &"x".repeat(1000))));
        assert_eq!(versions(&ring, 2), Some(vec![3, 4]), "two fit in the bytes");
        ring.remember(&update(5, &"x".repeat(5000)));
        assert_eq!(versions(&ring, 4), None, "too large to keep at all");
    }
}
