//! The write path to a durable store: group commit.
//!
//! A session that changed marks itself dirty once; one task collects every
//! dirty session, writes them in a single store transaction (off the async
//! threads), and then releases their acks. While one write is in flight the
//! next batch accumulates, so a burst costs a few fsyncs, not one per event.
//!
//! The persister sees a session only as [`Persistable`], and a backend only
//! as [`Saver`], so it depends on neither the session nor Redis.

use std::{
    future::Future,
    sync::{Arc, Weak},
    time::Duration,
};

use stateside_wire::ServerMessage;
use tokio::sync::mpsc;

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

/// A cheap handle that sessions use to ask for a save.
#[derive(Clone)]
pub(crate) struct Persister {
    dirty: mpsc::UnboundedSender<Weak<dyn Persistable>>,
}

impl Persister {
    pub(crate) fn spawn(saver: impl Saver) -> Self {
        let (dirty, receiver) = mpsc::unbounded_channel();
        tokio::spawn(run(saver, dirty.downgrade(), receiver));
        Self { dirty }
    }

    /// Schedules a save of `session`, unless one is already scheduled.
    pub(crate) fn mark_dirty<P: Persistable>(&self, session: &Arc<P>) {
        if session.mark_dirty() {
            let session: Weak<P> = Arc::downgrade(session);
            let session: Weak<dyn Persistable> = session;
            let _ = self.dirty.send(session);
        }
    }
}

/// Runs until the engine (the last `Persister`) is gone. `retry` is weak
/// so that this task does not keep its own channel open.
async fn run(
    saver: impl Saver,
    retry: mpsc::WeakUnboundedSender<Weak<dyn Persistable>>,
    mut dirty: mpsc::UnboundedReceiver<Weak<dyn Persistable>>,
) {
    while let Some(first) = dirty.recv().await {
        let mut sessions = vec![first];
        while let Ok(more) = dirty.try_recv() {
            sessions.push(more);
        }
        let sessions: Vec<Arc<dyn Persistable>> =
            sessions.iter().filter_map(Weak::upgrade).collect();
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
            }
            failure => {
                tracing::error!(?failure, "saving sessions failed; retrying");
                tokio::time::sleep(Duration::from_millis(100)).await;
                let Some(retry) = retry.upgrade() else {
                    return;
                };
                for session in &sessions {
                    if session.mark_dirty() {
                        let _ = retry.send(Arc::downgrade(session));
                    }
                }
            }
        }
    }
}
