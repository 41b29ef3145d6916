//! Redis, for several server processes acting as one app.
//!
//! **One owner per session, with a fenced lease.** The instance that runs a
//! session holds `stateside:{token}:owner = <instance>:<fence>` with an
//! expiry, where `fence` comes from `INCR stateside:{token}:fence`. It runs
//! the session's actor, queue and tasks locally behind the usual fair lock,
//! so a lock section costs no round trip; the persister saves batches with
//! a script that writes the record and publishes the updates only while the
//! owner key holds this fence ([`scripts`]). A holder paused past its lease
//! therefore cannot overwrite newer state; it learns so from the refused
//! save or the failed renewal and drops its copy ([`lease`]).
//!
//! Other instances *follow* the session: events they receive go to the
//! owner's inbox ([`inbox`]), and their tabs' streams are fed from the
//! owner's published saves ([`fanout`]). When an owner dies its lease
//! expires and the next instance that needs the session takes it over from
//! the record. Nothing waits on keyspace notifications (Reflex's issues
//! 3984 and 4873): followers hear an explicit release message, and check
//! the owner key on every forward and every lease period.
//!
//! The durability point: an event is acknowledged once the owner's save
//! of it is in Redis; surviving a Redis crash is then Redis's own
//! persistence setting (AOF), while owners re-save their sessions into a
//! Redis that restarted empty.

mod fanout;
mod inbox;
mod lease;
mod scripts;

use std::{
    collections::HashMap,
    sync::{Arc, Mutex, Weak},
    time::Duration,
};

use redis::{
    AsyncCommands, ProtocolVersion,
    aio::{ConnectionManager, ConnectionManagerConfig},
};
use serde::{Deserialize, Serialize};
use stateside_wire::ServerMessage;
use tokio::sync::{Notify, OnceCell, mpsc};

pub(crate) use inbox::Forwarder;
pub(crate) use lease::Renewal;

use super::{StoreError, StoredSession, persister::Dirty};
use crate::{
    SessionToken,
    session::{SessionInner, lock},
};

/// A connection to Redis for one server process: a command connection, a
/// separate subscriber connection, and what this process owns and follows.
/// Both connections reconnect by themselves, and the subscriber resubscribes.
pub struct RedisStore {
    commands: ConnectionManager,
    subscriber: ConnectionManager,
    pushes: Mutex<Option<mpsc::UnboundedReceiver<redis::PushInfo>>>,
    instance: String,
    lease: Duration,
    /// How long Redis keeps a record nobody renews: the engine's idle TTL.
    record_ttl: Duration,
    owned: Mutex<HashMap<SessionToken, Lease>>,
    followed: Mutex<HashMap<SessionToken, Weak<SessionInner>>>,
    /// One join at a time in this process, so that two requests for one
    /// session cannot both join it (the second would follow the first).
    pub(crate) joining: tokio::sync::Mutex<()>,
    /// Wakes the lease keeper early: a lease was lost or released, or a
    /// follower found its session without an owner.
    pub(crate) keeper: Notify,
}

/// This process's hold on a session it runs.
#[derive(Clone)]
struct Lease {
    /// Taken at the first save for a session created here, at once for one
    /// joined from Redis.
    fence: Arc<OnceCell<u64>>,
    /// Rings when a follower has put events in the inbox.
    wake: Arc<Notify>,
    /// A save was fenced out: the keeper drops the session.
    lost: bool,
}

/// What joining a session found.
pub(crate) enum Joined {
    /// This process now owns it, with this fence.
    Owner(u64, StoredSession),
    /// Another instance owns it.
    Follower(StoredSession),
    /// Redis has no such session.
    Unknown,
}

/// What an owner publishes on `stateside:{token}:updates`. Generic so the
/// save can borrow the messages it publishes.
#[derive(Serialize, Deserialize)]
enum Broadcast<Message = ServerMessage> {
    /// A save: its messages, and the client events the record applies.
    Saved {
        through: u64,
        messages: Vec<Message>,
    },
    /// The owner gave the session up.
    Released,
}

impl RedisStore {
    /// Connects to `url` (`redis://host:port[/db]`).
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        let client = redis::Client::open(url).map_err(StoreError::new)?;
        let mut info = client.get_connection_info().clone();
        // Pub/sub on a multiplexed, self-healing connection needs RESP3.
        info.redis.protocol = ProtocolVersion::RESP3;
        let (pushes, receiver) = mpsc::unbounded_channel();
        let subscriber = redis::Client::open(info)
            .map_err(StoreError::new)?
            .get_connection_manager_with_config(
                ConnectionManagerConfig::new()
                    .set_push_sender(pushes)
                    .set_automatic_resubscription(),
            )
            .await
            .map_err(StoreError::new)?;
        let commands = client
            .get_connection_manager()
            .await
            .map_err(StoreError::new)?;
        let mut id = [0u8; 8];
        getrandom::fill(&mut id).map_err(StoreError::new)?;
        Ok(Self {
            commands,
            subscriber,
            pushes: Mutex::new(Some(receiver)),
            instance: id.iter().map(|byte| format!("{byte:02x}")).collect(),
            lease: Duration::from_secs(5),
            record_ttl: Duration::from_secs(3600),
            owned: Mutex::default(),
            followed: Mutex::default(),
            joining: tokio::sync::Mutex::new(()),
            keeper: Notify::new(),
        })
    }

    /// How long a lease lasts unrenewed (5 s by default; renewed every
    /// third of it). A shorter lease takes over a dead owner's sessions
    /// sooner; a longer one tolerates longer pauses without a handover.
    pub fn with_lease(mut self, lease: Duration) -> Self {
        self.lease = lease;
        self
    }

    pub(crate) fn set_record_ttl(&mut self, ttl: Duration) {
        self.record_ttl = ttl;
    }

    pub(crate) fn lease(&self) -> Duration {
        self.lease
    }

    fn owner_value(&self, fence: u64) -> String {
        format!("{}:{fence}", self.instance)
    }

    fn millis(duration: Duration) -> u64 {
        duration.as_millis().max(1) as u64
    }

    /// Tries to take the lease of a session another process may run.
    pub(crate) async fn join(&self, token: &SessionToken) -> Result<Joined, StoreError> {
        self.acquire(token, false).await
    }

    async fn acquire(&self, token: &SessionToken, create: bool) -> Result<Joined, StoreError> {
        let (fence, record): (u64, Option<Vec<u8>>) = scripts::ACQUIRE
            .key(key(token, "owner"))
            .key(key(token, "fence"))
            .key(key(token, "record"))
            .arg(&self.instance)
            .arg(Self::millis(self.lease))
            .arg(u8::from(create))
            .invoke_async(&mut self.commands.clone())
            .await
            .map_err(StoreError::new)?;
        let stored = record
            .map(|bytes| StoredSession::decode(&bytes))
            .transpose()?;
        Ok(match (fence, stored) {
            (0, None) => Joined::Unknown,
            (0, Some(stored)) => Joined::Follower(stored),
            (fence, stored) => Joined::Owner(fence, stored.unwrap_or_default()),
        })
    }

    /// The record as Redis has it now.
    pub(crate) async fn load(
        &self,
        token: &SessionToken,
    ) -> Result<Option<StoredSession>, StoreError> {
        let record: Option<Vec<u8>> = self
            .commands
            .clone()
            .get(key(token, "record"))
            .await
            .map_err(StoreError::new)?;
        record
            .map(|bytes| StoredSession::decode(&bytes))
            .transpose()
    }

    /// The fenced save of a batch (see [`scripts::SAVE`]): per session,
    /// whether Redis took it. A refused session is marked lost. One round
    /// trip for the whole batch.
    pub(crate) async fn save(&self, batch: &[Dirty]) -> Result<Vec<bool>, StoreError> {
        let mut invocation = scripts::SAVE.prepare_invoke();
        invocation
            .arg(Self::millis(self.lease))
            .arg(Self::millis(self.record_ttl));
        let mut sent = Vec::with_capacity(batch.len());
        for (index, dirty) in batch.iter().enumerate() {
            let Some(fence) = self.fence(&dirty.token).await? else {
                continue;
            };
            let payload = serde_json::to_vec(&Broadcast::Saved {
                through: dirty.through,
                messages: dirty.relayed.iter().map(|message| &**message).collect(),
            })
            .map_err(StoreError::new)?;
            invocation
                .key(key(&dirty.token, "owner"))
                .key(key(&dirty.token, "fence"))
                .key(key(&dirty.token, "record"))
                .arg(self.owner_value(fence))
                .arg(fence)
                .arg(&dirty.record)
                .arg(key(&dirty.token, "updates"))
                .arg(payload);
            sent.push(index);
        }
        let mut kept = vec![false; batch.len()];
        if sent.is_empty() {
            return Ok(kept);
        }
        let held: Vec<u8> = invocation
            .invoke_async(&mut self.commands.clone())
            .await
            .map_err(StoreError::new)?;
        for (index, held) in sent.into_iter().zip(held) {
            let saved = held != 0;
            kept[index] = saved;
            if !saved {
                self.lose(&batch[index].token);
            }
        }
        Ok(kept)
    }

    /// This process's fence for a session it owns, taking the lease first
    /// if the session was created here and never saved. `None` if it does
    /// not own the session (any more).
    async fn fence(&self, token: &SessionToken) -> Result<Option<u64>, StoreError> {
        let Some(cell) = self.lease_of(token).map(|lease| lease.fence) else {
            return Ok(None);
        };
        let fence = cell
            .get_or_try_init(|| async {
                match self.acquire(token, true).await? {
                    Joined::Owner(fence, _) => Ok(fence),
                    // A fresh random token that someone else holds.
                    Joined::Follower(_) | Joined::Unknown => Err(None),
                }
            })
            .await;
        match fence {
            Ok(fence) => Ok(Some(*fence)),
            Err(None) => {
                self.lose(token);
                Ok(None)
            }
            Err(Some(error)) => Err(error),
        }
    }

    fn lease_of(&self, token: &SessionToken) -> Option<Lease> {
        lock(&self.owned)
            .get(token)
            .filter(|lease| !lease.lost)
            .cloned()
    }

    fn lose(&self, token: &SessionToken) {
        if let Some(lease) = lock(&self.owned).get_mut(token) {
            tracing::warn!(session = %token.log_tag(), "lost the session's lease to another instance; dropping it here");
            lease.lost = true;
        }
        self.keeper.notify_one();
    }

    /// Lets go of a session: gives its lease up, telling the followers,
    /// or stops following it.
    pub(crate) async fn leave(&self, token: &SessionToken) -> Result<(), StoreError> {
        self.unfollow(token).await;
        let Some(lease) = lock(&self.owned).remove(token) else {
            return Ok(());
        };
        lease.wake.notify_one(); // the inbox drainer sees it is over
        match lease.fence.get() {
            Some(fence) => self.release(token, *fence).await,
            None => Ok(()),
        }
    }

    /// Gives the lease with `fence` up, unless it is already another's.
    pub(crate) async fn release(&self, token: &SessionToken, fence: u64) -> Result<(), StoreError> {
        let payload =
            serde_json::to_vec(&Broadcast::<ServerMessage>::Released).map_err(StoreError::new)?;
        let _: u8 = scripts::RELEASE
            .key(key(token, "owner"))
            .arg(self.owner_value(fence))
            .arg(key(token, "updates"))
            .arg(payload)
            .invoke_async(&mut self.commands.clone())
            .await
            .map_err(StoreError::new)?;
        Ok(())
    }
}

/// `stateside:{token}:part`. The braces make the token Redis Cluster's hash
/// tag, so one session's keys share a slot and its scripts stay legal there.
fn key(token: &SessionToken, part: &str) -> String {
    format!("stateside:{{{token}}}:{part}")
}
