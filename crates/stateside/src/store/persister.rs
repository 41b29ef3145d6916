//! The write path to a durable store: group commit.
//!
//! A session that changed marks itself dirty once; one task collects every
//! dirty session, writes them in a single store transaction (off the async
//! threads), and then releases their acks. While one write is in flight the
//! next batch accumulates, so a burst costs a few fsyncs, not one per event.

use std::{
    sync::{Arc, Weak, atomic::Ordering},
    time::Duration,
};

use stateside_wire::ServerMessage;
use tokio::sync::mpsc;

use super::{Backend, StoreError};
use crate::{
    SessionToken,
    session::{SessionInner, lock},
};

/// One session's part of a batch.
pub(crate) struct Dirty {
    pub(crate) token: SessionToken,
    pub(crate) record: Vec<u8>,
    /// The client events the record has applied.
    pub(crate) through: u64,
    /// What a Redis owner publishes with the record (see `Outbox::relay`).
    pub(crate) relayed: Vec<Arc<ServerMessage>>,
}

/// A cheap handle that sessions use to ask for a save.
#[derive(Clone)]
pub(crate) struct Persister {
    dirty: mpsc::UnboundedSender<Weak<SessionInner>>,
}

impl Persister {
    pub(crate) fn spawn(backend: Backend) -> Self {
        let (dirty, receiver) = mpsc::unbounded_channel();
        tokio::spawn(run(backend, dirty.downgrade(), receiver));
        Self { dirty }
    }

    /// Schedules a save of `session`, unless one is already scheduled.
    pub(crate) fn mark_dirty(&self, session: &Arc<SessionInner>) {
        mark_dirty(&self.dirty, session);
    }
}

fn mark_dirty(dirty: &mpsc::UnboundedSender<Weak<SessionInner>>, session: &Arc<SessionInner>) {
    if !session.dirty.swap(true, Ordering::SeqCst) {
        let _ = dirty.send(Arc::downgrade(session));
    }
}

/// Runs until the engine (the last `Persister`) is gone. `retry` is weak
/// so that this task does not keep its own channel open.
async fn run(
    backend: Backend,
    retry: mpsc::WeakUnboundedSender<Weak<SessionInner>>,
    mut dirty: mpsc::UnboundedReceiver<Weak<SessionInner>>,
) {
    while let Some(first) = dirty.recv().await {
        let mut sessions = vec![first];
        while let Ok(more) = dirty.try_recv() {
            sessions.push(more);
        }
        let sessions: Vec<Arc<SessionInner>> = sessions.iter().filter_map(Weak::upgrade).collect();
        // Clear the flag before reading, so a change made after the read
        // schedules another save instead of being lost.
        let mut batch: Vec<Dirty> = sessions
            .iter()
            .map(|session| {
                session.dirty.store(false, Ordering::SeqCst);
                let outbox = lock(&session.outbox);
                Dirty {
                    token: session.token,
                    record: outbox.stored(),
                    through: outbox.applied_through(),
                    relayed: outbox.relayed(),
                }
            })
            .collect();
        match save(&backend, &mut batch).await {
            Ok(kept) => {
                for ((session, dirty), kept) in sessions.iter().zip(&batch).zip(kept) {
                    // A batch refused for a session (its Redis lease was
                    // lost) is never acknowledged: its owner now is another.
                    if kept {
                        let mut outbox = lock(&session.outbox);
                        outbox.drop_relayed(dirty.relayed.len());
                        outbox.confirm_persisted(dirty.through);
                    }
                }
            }
            failure => {
                tracing::error!(?failure, "saving sessions failed; retrying");
                tokio::time::sleep(Duration::from_millis(100)).await;
                let Some(retry) = retry.upgrade() else {
                    return;
                };
                sessions
                    .iter()
                    .for_each(|session| mark_dirty(&retry, session));
            }
        }
    }
}

/// Writes a batch; says, per session, whether the store took it.
async fn save(backend: &Backend, batch: &mut [Dirty]) -> Result<Vec<bool>, StoreError> {
    match backend {
        Backend::Store(store) => {
            // The records are not needed after the write: move them.
            let records: Vec<_> = batch
                .iter_mut()
                .map(|dirty| (dirty.token, std::mem::take(&mut dirty.record)))
                .collect();
            let store = Arc::clone(store);
            tokio::task::spawn_blocking(move || store.save(&records))
                .await
                .map_err(StoreError::new)??;
            Ok(vec![true; batch.len()])
        }
        Backend::Redis(redis) => redis.save(batch).await,
    }
}
