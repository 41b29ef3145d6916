//! The outbox: the tab's events from the click until the server has applied
//! them, and what each kind of answer does to them.
//!
//! An event leaves the outbox only when the stream acknowledges it, or when
//! the server refuses it for good (the event itself is at fault). Every
//! other answer (busy, shutting down, out of window, lost session, a failed
//! request) keeps it, and moves the "sent" mark back so it goes out again:
//! the server drops repeated seqs, so resending is always safe, and losing
//! a click never is.
//!
//! Sending is optimistic on both transports: a batch counts as sent the
//! moment it leaves, and only a later answer moves the mark back, never
//! forward. So a `missing` request from the stream, or a busy receipt,
//! sticks even while other batches are in flight.

use std::collections::VecDeque;

use stateside_wire::{ClientEvent, Receipt, RefusalReason};

/// A batch stays well under the server's default body limit.
const MAX_BATCH_BYTES: usize = stateside_wire::DEFAULT_MAX_PAYLOAD * 3 / 4;

/// The tab's unacknowledged events, numbered for the session they belong to.
#[derive(Default)]
pub(super) struct Outbox {
    /// In seq order; seq 0 means not numbered yet (clicked before the tab
    /// had a session).
    pending: VecDeque<ClientEvent>,
    /// The seq the next event gets; 0 until the tab has a session.
    next_seq: u64,
    /// Every pending event up to this seq has been sent on the current
    /// connection; the ones after it go out with the next batch.
    sent_through: u64,
}

/// What the client must do about a receipt, beyond what the outbox did.
#[derive(Debug, PartialEq)]
pub(super) enum Verdict {
    /// Taken: nothing to do.
    Taken,
    /// Refused for good and dropped from the outbox: tell the user why.
    Dropped(String),
    /// Not taken for now: kept, and resent after a backoff.
    RetryLater,
    /// The server no longer has the session: kept, and sent to the new
    /// session the next connection opens.
    SessionGone,
}

impl Outbox {
    /// How many events wait for the server; the banner shows it.
    pub(super) fn len(&self) -> usize {
        self.pending.len()
    }

    /// Queues an event, numbered if the tab has a session (otherwise it is
    /// numbered when one opens).
    pub(super) fn push(&mut self, mut event: ClientEvent) {
        event.seq = self.next_seq;
        if self.next_seq > 0 {
            self.next_seq += 1;
        }
        self.pending.push_back(event);
    }

    /// Queues an event ahead of every pending one. Only for a session the
    /// pending events are not numbered for yet: [`renumber`](Self::renumber)
    /// comes next.
    pub(super) fn push_first(&mut self, event: ClientEvent) {
        self.pending.push_front(event);
    }

    /// Whether an event for `handler` waits for the server.
    pub(super) fn holds(&self, handler: &str) -> bool {
        self.pending.iter().any(|event| event.handler == handler)
    }

    /// The connection resumed the session these events were numbered for,
    /// and the server expects `server_next_seq`: everything from there on
    /// is resent (after a crash the server may hold fewer events than it
    /// once confirmed receiving).
    pub(super) fn resume(&mut self, server_next_seq: u64) {
        self.sent_through = server_next_seq.saturating_sub(1);
    }

    /// The connection opened a session these events were not numbered for
    /// (the tab's first, or a new one after the old was lost): every
    /// pending event is numbered afresh from `next_seq`. Returns how many
    /// will be sent to it.
    pub(super) fn renumber(&mut self, next_seq: u64) -> usize {
        self.next_seq = next_seq;
        for event in &mut self.pending {
            event.seq = self.next_seq;
            self.next_seq += 1;
        }
        self.sent_through = next_seq.saturating_sub(1);
        self.pending.len()
    }

    /// The stream says every event up to `acked` has been applied.
    pub(super) fn acked(&mut self, acked: u64) {
        self.pending
            .retain(|event| event.seq == 0 || event.seq > acked);
    }

    /// Sends everything from `seq` on again with the next batch.
    pub(super) fn resend_from(&mut self, seq: u64) {
        self.sent_through = self.sent_through.min(seq.saturating_sub(1));
    }

    /// The next batch of unsent events, in seq order, counted as sent.
    /// Empty when everything has gone out (or nothing is numbered yet).
    pub(super) fn next_batch(&mut self) -> Vec<ClientEvent> {
        let sent_through = self.sent_through;
        let mut bytes = 0;
        let batch: Vec<_> = self
            .pending
            .iter()
            .filter(|event| event.seq > sent_through)
            .take_while(|event| {
                bytes += event.args.to_string().len() + event.handler.len() + 32;
                bytes <= MAX_BATCH_BYTES
            })
            .cloned()
            .collect();
        if let Some(last) = batch.last() {
            self.sent_through = last.seq;
        }
        batch
    }

    /// Applies the server's answer about the event `seq`.
    pub(super) fn receipt(&mut self, seq: u64, receipt: Receipt) -> Verdict {
        match receipt {
            Receipt::Accepted | Receipt::Held | Receipt::Duplicate => Verdict::Taken,
            Receipt::Refused(refusal) if refusal.is_final() => {
                self.pending.retain(|event| event.seq != seq);
                Verdict::Dropped(refusal.message)
            }
            Receipt::Refused(refusal) => {
                self.resend_from(seq);
                if refusal.reason == RefusalReason::UnknownSession {
                    Verdict::SessionGone
                } else {
                    Verdict::RetryLater
                }
            }
            Receipt::Busy => {
                self.resend_from(seq);
                Verdict::RetryLater
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use stateside_wire::Refusal;

    use super::*;

    fn click() -> ClientEvent {
        ClientEvent {
            seq: 0,
            handler: "increment".to_owned(),
            args: serde_json::Value::Null,
        }
    }

    fn seqs(batch: &[ClientEvent]) -> Vec<u64> {
        batch.iter().map(|event| event.seq).collect()
    }

    fn refusal(reason: RefusalReason) -> Receipt {
        Receipt::Refused(Refusal {
            reason,
            message: format!("{reason:?}"),
        })
    }

    #[test]
    fn events_clicked_before_a_session_are_numbered_when_it_opens() {
        let mut outbox = Outbox::default();
        outbox.push(click());
        assert!(outbox.next_batch().is_empty());
        assert_eq!(outbox.renumber(1), 1);
        outbox.push(click());
        assert_eq!(seqs(&outbox.next_batch()), [1, 2]);
        assert!(outbox.next_batch().is_empty());
    }

    #[test]
    fn a_missing_request_sticks_while_a_batch_is_in_flight() {
        let mut outbox = Outbox::default();
        outbox.renumber(1);
        (0..3).for_each(|_| outbox.push(click()));
        let in_flight = outbox.next_batch();
        outbox.resend_from(2);
        for event in &in_flight {
            assert_eq!(outbox.receipt(event.seq, Receipt::Accepted), Verdict::Taken);
        }
        assert_eq!(seqs(&outbox.next_batch()), [2, 3]);
    }

    #[test]
    fn only_a_final_refusal_drops_an_event() {
        let mut outbox = Outbox::default();
        outbox.renumber(1);
        (0..3).for_each(|_| outbox.push(click()));
        outbox.next_batch();
        assert_eq!(
            outbox.receipt(1, refusal(RefusalReason::BadArgs)),
            Verdict::Dropped("BadArgs".to_owned())
        );
        assert_eq!(
            outbox.receipt(2, refusal(RefusalReason::ShuttingDown)),
            Verdict::RetryLater
        );
        assert_eq!(outbox.receipt(3, Receipt::Busy), Verdict::RetryLater);
        assert_eq!(outbox.len(), 2);
        assert_eq!(seqs(&outbox.next_batch()), [2, 3]);
        outbox.acked(3);
        assert_eq!(outbox.len(), 0);
    }

    #[test]
    fn a_lost_session_keeps_its_events_for_the_next() {
        let mut outbox = Outbox::default();
        outbox.renumber(1);
        (0..2).for_each(|_| outbox.push(click()));
        outbox.next_batch();
        assert_eq!(
            outbox.receipt(1, refusal(RefusalReason::UnknownSession)),
            Verdict::SessionGone
        );
        assert_eq!(outbox.renumber(1), 2);
        assert_eq!(seqs(&outbox.next_batch()), [1, 2]);
    }

    /// The browser's stored values reach a new session before the clicks
    /// (and the page event) made while it opened.
    #[test]
    fn a_read_in_goes_ahead_of_what_waited_for_the_session() {
        let mut outbox = Outbox::default();
        outbox.push(click());
        let read_in = ClientEvent {
            handler: "stateside/stored".to_owned(),
            ..click()
        };
        outbox.push_first(read_in);
        assert_eq!(outbox.renumber(5), 2);
        let batch = outbox.next_batch();
        assert_eq!(seqs(&batch), [5, 6]);
        assert_eq!(batch[0].handler, "stateside/stored");
        assert!(outbox.holds("stateside/stored"));
        outbox.acked(5);
        assert!(!outbox.holds("stateside/stored"));
        assert!(outbox.holds("increment"));
    }

    #[test]
    fn a_resumed_session_gets_what_the_server_lacks() {
        let mut outbox = Outbox::default();
        outbox.renumber(1);
        (0..4).for_each(|_| outbox.push(click()));
        outbox.next_batch();
        outbox.acked(1);
        outbox.resume(3);
        assert_eq!(seqs(&outbox.next_batch()), [3, 4]);
    }
}
