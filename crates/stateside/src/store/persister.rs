//! The write path to a durable store: group commit.
//!
//! A session that changed marks itself dirty once; one task collects every
//! dirty session, writes them in a single store transaction (off the async
//! threads), and then releases their acks. While one write is in flight the
//! next batch accumulates, so a burst costs a few fsyncs, not one per event.
//! A shutdown asks for a flush: it is answered once every save requested
//! before it is in the store, so a process can exit without losing the last
//! changes of its tasks.
//!
//! The persister sees a session only as [`Persistable`], and a backend only
//! as [`Saver`], so it depends on neither the session nor Redis.

use std::{
    future::Future,
    sync::{Arc, Weak},
    time::Duration,
};

use stateside_wire::ServerMessage;
use tokio::sync::{mpsc, oneshot};

use super::{Store, StoreError};
use crate::token::SessionToken;

/// One session's part of a batch.
pub(crate) struct Dirty {
    pub(crate) token: SessionToken,
    pub(crate) record: Vec<u8>,
    /// The client events the record has applied.
    pub(crate) through: u64,
    /// What a Redis owner publishes with the record (see `Outbox::relay`).
    pub(crate) relayed: Vec<Arc<ServerMessage>>,
}

/// A session, as far as saving it goes.
pub(crate) trait Persistable: Send + Sync + 'static {
    /// Notes that a save is scheduled; false if one already was.
    fn mark_dirty(&self) -> bool;
    /// Reads what to save. Clears the mark before reading, so a change made
    /// after the read schedules another save instead of being lost.
    fn take_dirty(&self) -> Dirty;
    /// The store has `saved`: acknowledge its events to the clients.
    fn confirm_saved(&self, saved: &Dirty);
}

/// Where a batch goes: a plain [`Store`], or Redis's fenced save.
pub(crate) trait Saver: Send + Sync + 'static {
    /// Writes a batch; says, per session, whether the backend took it.
    fn save(
        &self,
        batch: &mut [Dirty],
    ) -> impl Future<Output = Result<Vec<bool>, StoreError>> + Send;
}

impl Saver for Arc<dyn Store> {
    async fn save(&self, batch: &mut [Dirty]) -> Result<Vec<bool>, StoreError> {
        // The records are not needed after the write: move them.
        let records: Vec<_> = batch
            .iter_mut()
            .map(|dirty| (dirty.token, std::mem::take(&mut dirty.record)))
            .collect();
        let store = Arc::clone(self);
        tokio::task::spawn_blocking(move || Store::save(&*store, &records))
            .await
            .map_err(StoreError::new)??;
        Ok(vec![true; batch.len()])
    }
}

/// What the persister's task is asked to do.
enum Request {
    /// Save this session.
    Save(Weak<dyn Persistable>),
    /// Answer once everything asked before is saved.
    Flush(oneshot::Sender<()>),
}

/// A cheap handle that sessions use to ask for a save.
#[derive(Clone)]
pub(crate) struct Persister {
    requests: mpsc::UnboundedSender<Request>,
}

impl Persister {
    pub(crate) fn spawn(saver: impl Saver) -> Self {
        let (requests, receiver) = mpsc::unbounded_channel();
        tokio::spawn(run(saver, requests.downgrade(), receiver));
        Self { requests }
    }

    /// Schedules a save of `session`, unless one is already scheduled.
    pub(crate) fn mark_dirty<P: Persistable>(&self, session: &Arc<P>) {
        if session.mark_dirty() {
            let session: Weak<P> = Arc::downgrade(session);
            let session: Weak<dyn Persistable> = session;
            let _ = self.requests.send(Request::Save(session));
        }
    }

    /// Waits until every save asked for so far is in the store (retrying
    /// as long as the store fails).
    pub(crate) async fn flush(&self) {
        let (done, saved) = oneshot::channel();
        if self.requests.send(Request::Flush(done)).is_ok() {
            let _ = saved.await;
        }
    }
}

/// Runs until the engine (the last `Persister`) is gone. `retry` is weak
/// so that this task does not keep its own channel open.
async fn run(
    saver: impl Saver,
    retry: mpsc::WeakUnboundedSender<Request>,
    mut requests: mpsc::UnboundedReceiver<Request>,
) {
    while let Some(first) = requests.recv().await {
        let (mut sessions, mut flushes) = (Vec::new(), Vec::new());
        let mut next = Some(first);
        while let Some(request) = next.take().or_else(|| requests.try_recv().ok()) {
            match request {
                Request::Save(session) => sessions.extend(session.upgrade()),
                Request::Flush(done) => flushes.push(done),
            }
        }
        if !sessions.is_empty() && !save(&saver, &sessions).await {
            tokio::time::sleep(Duration::from_millis(100)).await;
            let Some(retry) = retry.upgrade() else {
                return;
            };
            // Flushes wait behind the retried saves.
            let retried = sessions.iter().filter(|session| session.mark_dirty());
            for session in retried {
                let _ = retry.send(Request::Save(Arc::downgrade(session)));
            }
            for done in flushes {
                let _ = retry.send(Request::Flush(done));
            }
            continue;
        }
        for done in flushes {
            let _ = done.send(());
        }
    }
}

/// Saves one batch; false if the store failed (the batch is to be retried).
async fn save(saver: &impl Saver, sessions: &[Arc<dyn Persistable>]) -> bool {
    let mut batch: Vec<Dirty> = sessions
        .iter()
        .map(|session| session.take_dirty())
        .collect();
    match saver.save(&mut batch).await {
        Ok(kept) => {
            for ((session, dirty), kept) in sessions.iter().zip(&batch).zip(kept) {
                // A batch refused for a session (its Redis lease was
                // lost) is never acknowledged: its owner now is another.
                if kept {
                    session.confirm_saved(dirty);
                }
            }
            true
        }
        Err(error) => {
            tracing::error!(%error, "saving sessions failed; retrying");
            false
        }
    }
}
