//! Exactly-once, in-order delivery of client events.
//!
//! Events travel as separate requests, so they can arrive out of order or
//! twice (a retry after a dropped response). The sequencer releases them
//! strictly by `seq`, drops repeats, and holds early arrivals until the gap
//! fills. Acks are a watermark, "everything up to N is applied", because
//! background starts can complete before a slow foreground event before them.
//!
//! Such a start is applied while the watermark is still below it, so a
//! record keeps those seqs too ([`AckWatermark::ahead`]): a session restored
//! from it takes them as repeats, and a task started before a crash is not
//! started again when its client resends the event.

use std::collections::{BTreeMap, BTreeSet};

use crate::error::Error;

pub(crate) enum Offer<T> {
    /// Already seen: acknowledge, do nothing.
    Duplicate,
    /// Waiting for an earlier seq.
    Held,
    /// These are next, in order.
    Ready(Vec<(u64, T)>),
}

pub(crate) struct Sequencer<T> {
    next: u64,
    held: BTreeMap<u64, T>,
    /// Seqs above `next` that a restored session had already applied.
    taken: BTreeSet<u64>,
    window: u64,
}

impl<T> Sequencer<T> {
    pub(crate) fn new(window: u64) -> Self {
        Self {
            next: 1,
            held: BTreeMap::new(),
            taken: BTreeSet::new(),
            window,
        }
    }

    /// A sequencer that already took every seq up to `applied_through`, and
    /// those in `ahead`.
    pub(crate) fn resumed(window: u64, applied_through: u64, ahead: &[u64]) -> Self {
        Self {
            next: applied_through + 1,
            taken: ahead.iter().copied().collect(),
            ..Self::new(window)
        }
    }

    pub(crate) fn next(&self) -> u64 {
        self.next
    }

    pub(crate) fn held(&self) -> usize {
        self.held.len()
    }

    pub(crate) fn offer(&mut self, seq: u64, item: T) -> Result<Offer<T>, Error> {
        if seq < self.next || self.held.contains_key(&seq) || self.taken.contains(&seq) {
            return Ok(Offer::Duplicate);
        }
        if seq - self.next > self.window {
            return Err(Error::SeqOutOfWindow {
                seq,
                expected: self.next,
            });
        }
        let mut ready = Vec::new();
        if seq == self.next {
            // The usual case: in order, so nothing is held, and an idle
            // session keeps no map node.
            ready.push((seq, item));
            self.next += 1;
        } else {
            self.held.insert(seq, item);
        }
        loop {
            if let Some(item) = self.held.remove(&self.next) {
                ready.push((self.next, item));
            } else if !self.taken.remove(&self.next) {
                break;
            }
            self.next += 1;
        }
        if self.held.is_empty() {
            // An emptied map keeps its root node, about 1 KiB for held
            // events: give it back, or every idle session keeps one.
            self.held = BTreeMap::new();
        }
        Ok(if ready.is_empty() {
            Offer::Held
        } else {
            Offer::Ready(ready)
        })
    }
}

/// The highest seq below which every event has been applied.
#[derive(Default)]
pub(crate) struct AckWatermark {
    through: u64,
    ahead: BTreeSet<u64>,
}

impl AckWatermark {
    pub(crate) fn resumed(through: u64, ahead: &[u64]) -> Self {
        Self {
            through,
            ahead: ahead.iter().copied().collect(),
        }
    }

    pub(crate) fn through(&self) -> u64 {
        self.through
    }

    /// The seqs applied above the watermark, in order.
    pub(crate) fn ahead(&self) -> Vec<u64> {
        self.ahead.iter().copied().collect()
    }

    pub(crate) fn applied(&mut self, seq: u64) -> u64 {
        if seq == self.through + 1 {
            self.through = seq;
        } else {
            self.ahead.insert(seq);
        }
        while self.ahead.remove(&(self.through + 1)) {
            self.through += 1;
        }
        if self.ahead.is_empty() {
            // As for `Sequencer::held`: no node kept by an idle session.
            self.ahead = BTreeSet::new();
        }
        self.through
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn released(offer: Offer<&str>) -> Vec<u64> {
        match offer {
            Offer::Ready(items) => items.into_iter().map(|(seq, _)| seq).collect(),
            _ => vec![],
        }
    }

    #[test]
    fn releases_in_order_and_drops_repeats() {
        let mut sequencer = Sequencer::new(8);
        assert!(matches!(sequencer.offer(2, "b"), Ok(Offer::Held)));
        assert!(matches!(sequencer.offer(2, "b"), Ok(Offer::Duplicate)));
        assert_eq!(released(sequencer.offer(1, "a").unwrap()), vec![1, 2]);
        assert!(matches!(sequencer.offer(1, "a"), Ok(Offer::Duplicate)));
        assert!(sequencer.offer(100, "z").is_err());
    }

    #[test]
    fn a_resumed_sequencer_skips_what_was_applied_ahead() {
        let mut sequencer = Sequencer::resumed(8, 1, &[3]);
        assert!(matches!(sequencer.offer(3, "c"), Ok(Offer::Duplicate)));
        assert_eq!(released(sequencer.offer(2, "b").unwrap()), vec![2]);
        assert_eq!(sequencer.next(), 4);
        let mut acks = AckWatermark::resumed(1, &[3]);
        assert_eq!(acks.applied(2), 3);
    }

    #[test]
    fn watermark_waits_for_the_gap() {
        let mut acks = AckWatermark::default();
        assert_eq!(acks.applied(2), 0);
        assert_eq!(acks.applied(1), 2);
        assert_eq!(acks.applied(3), 3);
    }
}
