//! A client event's way in: refused, forwarded, held for a gap, or sent on
//! to the queue or a new task in seq order.

use std::sync::{Arc, atomic::Ordering};

use serde_json::Value;
use stateside_wire::{ClientEvent, Notice};

use super::{inner::SessionInner, intake::Decoded};
use crate::{
    call::{Call, Job, Prepared},
    error::Error,
    mutex::lock,
    sequencer::Offer,
    transport::Submitted,
};

impl SessionInner {
    /// Takes one client event. It is decoded now, so a bad event is refused
    /// to its sender; its seq still counts as used, so later events flow.
    pub(super) fn submit(self: &Arc<Self>, event: ClientEvent) -> Result<Submitted, Error> {
        if self.shared.closing.load(Ordering::Relaxed) {
            return Err(Error::ShuttingDown);
        }
        if let Some(forward) = &self.intake.forward {
            // The owner sequences it; its ack comes back on the stream.
            forward.send(event)?;
            self.work.touch();
            return Ok(Submitted::Accepted);
        }
        let prepared = self.shared.app.prepare(&event.handler, event.args);
        let refusal = prepared.as_ref().err().cloned();
        let mut sequencer = lock(&self.intake.sequencer);
        if self.intake.is_expired() {
            return Err(Error::UnknownSession);
        }
        self.work.touch();
        let waiting = self.work.queued() + sequencer.held();
        if waiting >= self.shared.config.queue_limit {
            return Err(Error::Busy { waiting });
        }
        let submitted = match sequencer.offer(event.seq, prepared)? {
            Offer::Duplicate => Submitted::Duplicate,
            Offer::Held => {
                self.watch_gap(sequencer.next());
                Submitted::Held
            }
            Offer::Ready(ready) => {
                for (seq, prepared) in ready {
                    self.dispatch(seq, prepared);
                }
                Submitted::Accepted
            }
        };
        drop(sequencer);
        match refusal {
            Some(error) if submitted != Submitted::Duplicate => Err(error),
            _ => Ok(submitted),
        }
    }

    /// Takes an event the server raised (a webhook, a timer): it has no
    /// seq and no client to acknowledge, and queues behind the client's
    /// events like a chained one. A follower hands it to the owner.
    pub(super) fn emit(self: &Arc<Self>, handler: &str, args: Value) -> Result<(), Error> {
        if self.shared.closing.load(Ordering::Relaxed) {
            return Err(Error::ShuttingDown);
        }
        // Server code may run internal handlers. Checked here too on a
        // follower, so a bad call fails to its caller.
        let prepared = self.shared.app.prepare_chained(handler, args.clone())?;
        if let Some(forward) = &self.intake.forward {
            return forward.emit(handler.to_owned(), args);
        }
        if self.intake.is_expired() {
            return Err(Error::UnknownSession);
        }
        let waiting = self.work.queued() + lock(&self.intake.sequencer).held();
        if waiting >= self.shared.config.queue_limit {
            return Err(Error::Busy { waiting });
        }
        self.work.touch();
        match prepared {
            Prepared {
                handler,
                call: Call::Background(start),
            } => self.start_for_event(None, handler, start),
            prepared => self.work.enqueue(Job {
                seq: None,
                prepared,
                next: false,
            }),
        }
        Ok(())
    }

    /// Events after `missing` are held. If it has not come when the timeout
    /// fires, the client is told to resend. One watch at a time.
    fn watch_gap(self: &Arc<Self>, missing: u64) {
        if !self.intake.claim_gap_watch() {
            return;
        }
        let session = Arc::downgrade(self);
        let timeout = self.shared.config.gap_timeout;
        tokio::spawn(async move {
            tokio::time::sleep(timeout).await;
            let Some(session) = session.upgrade() else {
                return;
            };
            session.intake.release_gap_watch();
            let sequencer = lock(&session.intake.sequencer);
            let (next, held) = (sequencer.next(), sequencer.held());
            drop(sequencer);
            if held > 0 && next == missing {
                tracing::debug!(missing, held, "asking the client to resend");
                session.publishing.outbox().request_resend(missing);
                session.persist();
            } else if held > 0 {
                session.watch_gap(next);
            }
        });
    }

    /// Sends a sequenced event on its way. Called in seq order, under the
    /// sequencer's mutex, so the mailbox sees events in seq order too.
    fn dispatch(self: &Arc<Self>, seq: u64, prepared: Decoded) {
        match prepared {
            Ok(Prepared {
                handler,
                call: Call::Background(start),
            }) => self.start_for_event(Some(seq), handler, start),
            Ok(prepared) => self.work.enqueue(Job {
                seq: Some(seq),
                prepared,
                next: false,
            }),
            Err(error) => {
                let notice = Notice::failed(error.handler().unwrap_or_default(), error.to_string());
                self.publish_applied(seq, Some(notice));
            }
        }
    }

    /// Whether the queue limit leaves room for one more event. A follower
    /// forwards everything (its owner applies the limit).
    pub(super) fn has_room(&self) -> bool {
        if let Some(forward) = &self.intake.forward {
            return forward.has_room();
        }
        let held = lock(&self.intake.sequencer).held();
        self.work.queued() + held < self.shared.config.queue_limit
    }

    /// The seq this session expects next from its client (on a follower,
    /// as far as the owner's saved acks tell).
    pub(super) fn next_seq(&self) -> u64 {
        if self.intake.forward.is_some() {
            return self.publishing.outbox().acked() + 1;
        }
        lock(&self.intake.sequencer).next()
    }
}
