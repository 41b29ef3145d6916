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

use tokio::sync::mpsc;

use super::Store;
use crate::session::{SessionInner, lock};

/// A cheap handle that sessions use to ask for a save.
#[derive(Clone)]
pub(crate) struct Persister {
    dirty: mpsc::UnboundedSender<Weak<SessionInner>>,
}

impl Persister {
    pub(crate) fn spawn(store: Arc<dyn Store>) -> Self {
        let (dirty, receiver) = mpsc::unbounded_channel();
        tokio::spawn(run(store, dirty.downgrade(), receiver));
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
    store: Arc<dyn Store>,
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
        let mut through = Vec::with_capacity(sessions.len());
        let batch: Vec<_> = sessions
            .iter()
            .map(|session| {
                session.dirty.store(false, Ordering::SeqCst);
                let outbox = lock(&session.outbox);
                through.push(outbox.applied_through());
                (session.token, outbox.stored())
            })
            .collect();
        let writer = Arc::clone(&store);
        match tokio::task::spawn_blocking(move || writer.save(&batch)).await {
            Ok(Ok(())) => {
                for (session, through) in sessions.iter().zip(through) {
                    lock(&session.outbox).confirm_persisted(through);
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
