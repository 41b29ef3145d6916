//! Events (and task cancels) that reach an instance which does not own
//! their session.
//!
//! The follower appends them to `stateside:{digest}:inbox` and publishes a
//! wake-up on `stateside:{digest}:wake`, both in one script call per batch.
//! The owner drains the inbox in order into the session's usual sequencer,
//! so an event that arrives twice, through two instances or a retry, is
//! still applied once. It pops under its fence, like every write: a stale
//! owner that has not yet noticed its lost lease cannot take events that
//! are the new owner's. A client's acks come back on its stream, from the
//! owner's saves, exactly as on one instance.

use std::{sync::Arc, time::Duration};

use serde::{Deserialize, Serialize};
use serde_json::Value;
use stateside_wire::ClientEvent;
use tokio::sync::{Notify, mpsc};

use super::{RedisStore, key, scripts};
use crate::{
    error::Error,
    session::{Forward, SessionHandle, WeakSession},
    task_id::TaskId,
    token::SessionToken,
};

/// The most events taken from an inbox in one round trip.
const DRAIN_BATCH: usize = 256;

/// The most events a follower pushes in one script call: far below what
/// Lua's `unpack` takes (about 8,000 values).
const FORWARD_BATCH: usize = 1000;

/// How long a follower waits before it tries again to forward to an inbox
/// that was full.
const INBOX_FULL_PAUSE: Duration = Duration::from_millis(20);

/// What a follower hands its owner, as the inbox holds it.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Forwarded {
    Event(ClientEvent),
    Cancel(TaskId),
    /// An event the server raised (`SessionHandle::emit`).
    Emit {
        handler: String,
        args: Value,
    },
}

/// A follower's way to the owner. What it is given leaves in that order.
///
/// Bounded twice, like the owner's own queue: by its channel here, and by
/// the inbox in Redis, which the forwarding script keeps within the owner's
/// queue limit. A full inbox stops the forwarding task, the channel fills,
/// and the follower answers `Busy`, so a flood through a follower is pushed
/// back to its client as on the owner.
pub(super) struct Forwarder {
    queue: mpsc::Sender<Forwarded>,
}

impl Forwarder {
    fn push(&self, forwarded: Forwarded) -> Result<(), Error> {
        self.queue.try_send(forwarded).map_err(|_| Error::Busy {
            waiting: self.queue.max_capacity(),
        })
    }
}

impl Forward for Forwarder {
    fn send(&self, event: ClientEvent) -> Result<(), Error> {
        self.push(Forwarded::Event(event))
    }

    fn emit(&self, handler: String, args: Value) -> Result<(), Error> {
        self.push(Forwarded::Emit { handler, args })
    }

    fn has_room(&self) -> bool {
        self.queue.capacity() > 0
    }

    fn cancel(&self, task: TaskId) {
        if let Err(mpsc::error::TrySendError::Full(cancel)) =
            self.queue.try_send(Forwarded::Cancel(task))
        {
            // A cancel is never refused: it waits for room behind the
            // events before it.
            let queue = self.queue.clone();
            tokio::spawn(async move { queue.send(cancel).await });
        }
    }
}

impl RedisStore {
    /// A forwarder for `token`: a task that pushes what it is given to the
    /// inbox, and pokes the lease keeper when nobody owns the session.
    /// `limit` is the owner's queue limit, which bounds both the channel
    /// and the inbox.
    pub(super) fn forwarder(self: &Arc<Self>, token: SessionToken, limit: usize) -> Forwarder {
        let (sender, mut queue) = mpsc::channel::<Forwarded>(limit.max(1));
        let redis = Arc::downgrade(self);
        let mut commands = self.commands.clone();
        let ttl = Self::millis(self.record_ttl);
        tokio::spawn(async move {
            while let Some(first) = queue.recv().await {
                let mut batch = vec![first];
                while batch.len() < FORWARD_BATCH
                    && let Ok(more) = queue.try_recv()
                {
                    batch.push(more);
                }
                let mut invocation = scripts::FORWARD.prepare_invoke();
                invocation
                    .key(key(&token, "inbox"))
                    .key(key(&token, "owner"))
                    .arg(key(&token, "wake"))
                    .arg(ttl)
                    .arg(limit);
                for forwarded in &batch {
                    invocation.arg(serde_json::to_vec(forwarded).expect("an event serialises"));
                }
                // Retried until Redis takes it: a lost event would stall
                // the session's sequence until the client resends.
                let owned = loop {
                    match invocation.invoke_async::<i64>(&mut commands).await {
                        Ok(-1) => tokio::time::sleep(INBOX_FULL_PAUSE).await,
                        Ok(owned) => break owned == 1,
                        Err(error) => {
                            tracing::warn!(%error, "forwarding events failed; retrying");
                            tokio::time::sleep(Duration::from_millis(100)).await;
                        }
                    }
                };
                if let (false, Some(redis)) = (owned, redis.upgrade()) {
                    redis.keeper.notify_one();
                }
            }
        });
        Forwarder { queue: sender }
    }

    /// Drains `token`'s inbox into the session whenever `wake` rings, for
    /// as long as this process owns it.
    pub(super) fn drain(
        self: &Arc<Self>,
        token: SessionToken,
        wake: Arc<Notify>,
        session: WeakSession,
    ) {
        let redis = Arc::downgrade(self);
        // Anything forwarded before this owner subscribed is drained too.
        wake.notify_one();
        tokio::spawn(async move {
            if let Some(redis) = redis.upgrade() {
                redis.subscribe(key(&token, "wake")).await;
            }
            loop {
                wake.notified().await;
                let Some(redis) = redis.upgrade() else {
                    return;
                };
                let Some(session) = session.upgrade() else {
                    break;
                };
                if redis.lease_of(&token).is_none() {
                    break;
                }
                if !redis.drain_once(&token, session).await {
                    wake.notify_one();
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
            if let Some(redis) = redis.upgrade() {
                redis.unsubscribe(key(&token, "wake")).await;
            }
        });
    }

    /// Submits everything in the inbox. False if Redis could not be read.
    async fn drain_once(&self, token: &SessionToken, session: SessionHandle) -> bool {
        let Some(fence) = self
            .lease_of(token)
            .and_then(|lease| lease.fence.get().copied())
        else {
            // Never saved: no other instance can know the session yet, and
            // their first forward will ring `wake` again.
            return true;
        };
        loop {
            let popped: Option<Vec<Vec<u8>>> = match scripts::POP
                .key(key(token, "owner"))
                .key(key(token, "fence"))
                .key(key(token, "inbox"))
                .arg(self.owner_value(fence))
                .arg(fence)
                .arg(Self::millis(self.lease))
                .arg(Self::millis(self.record_ttl))
                .arg(DRAIN_BATCH)
                .invoke_async(&mut self.commands.clone())
                .await
            {
                Ok(popped) => popped,
                Err(error) => {
                    tracing::warn!(%error, "reading a session's inbox failed");
                    return false;
                }
            };
            let Some(events) = popped else {
                self.lose(token);
                return true;
            };
            let more = events.len() == DRAIN_BATCH;
            for bytes in events {
                match serde_json::from_slice::<Forwarded>(&bytes) {
                    Ok(Forwarded::Event(event)) => submit(&session, event).await,
                    Ok(Forwarded::Emit { handler, args }) => {
                        emit(&session, &handler, args).await;
                    }
                    Ok(Forwarded::Cancel(task)) => {
                        session.cancel(task);
                    }
                    Err(_) => tracing::warn!("dropped an unreadable forwarded event"),
                }
            }
            if !more {
                return true;
            }
        }
    }
}

/// Submits a forwarded event, waiting while the queue is full. A refused
/// event has already told its client through a notice.
async fn submit(session: &SessionHandle, event: ClientEvent) {
    while let Err(Error::Busy { .. }) = session.submit(event.clone()) {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// Runs a forwarded server event, waiting while the queue is full. The
/// follower checked its handler; a refusal here (the session expired
/// meanwhile) has nobody to tell but the log.
async fn emit(session: &SessionHandle, handler: &str, args: Value) {
    loop {
        match session.emit_named(handler, args.clone()) {
            Err(Error::Busy { .. }) => tokio::time::sleep(Duration::from_millis(5)).await,
            Err(error) => {
                return tracing::warn!(handler, %error, "a forwarded server event was refused");
            }
            Ok(()) => return,
        }
    }
}
