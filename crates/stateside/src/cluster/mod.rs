//! Redis, for several server processes acting as one app.
//!
//! **Why Redis is not a [`Store`](crate::Store).** A `Store` is a dumb,
//! blocking map from token to bytes that one process owns outright. Redis
//! sessions are shared: which process may write one is decided by a lease,
//! every write must carry its fence, a save also publishes the updates to
//! the other instances, and all of it is async network I/O. So Redis plugs
//! in one level down instead: [`RedisStore`] is the persister's save step
//! (a `Saver`, like a `Store` is), and the engine asks it to join sessions
//! rather than to load them.
//!
//! **One owner per session, with a fenced lease.** The instance that runs a
//! session holds `stateside:{digest}:owner = <instance>:<fence>` with an
//! expiry, where `fence` comes from `INCR stateside:{digest}:fence`, and
//! `digest` is a hash of the session's token, never the token ([`keys`]). It runs
//! the session's actor, queue and tasks locally behind the usual fair lock,
//! so a lock section costs no round trip; the persister saves batches with
//! a script that writes the record and publishes the updates only while the
//! owner key holds this fence ([`scripts`]). A holder paused past its lease
//! therefore cannot overwrite newer state; it learns so from the refused
//! save or the failed renewal and drops its copy ([`lease`]). Every key of
//! a session, the fence too, expires with its record, so a session idle for
//! the engine's idle TTL leaves nothing behind in Redis.
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
mod join;
mod keys;
mod lease;
mod record;
mod scripts;

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::Duration,
};

use redis::{
    ProtocolVersion,
    aio::{ConnectionManager, ConnectionManagerConfig},
};
use serde::{Deserialize, Serialize};
use stateside_wire::ServerMessage;
use tokio::sync::{Notify, OnceCell, mpsc};

use crate::{session::WeakSession, store::StoreError, token::SessionToken};
use keys::key;

/// A connection to Redis for one server process: a command connection, a
/// separate subscriber connection, and what this process owns and follows.
/// Both connections reconnect by themselves, and the subscriber resubscribes.
///
/// It is not a [`Store`](crate::Store): a store is a blocking map one
/// process owns, while a Redis session is shared under a fenced lease and
/// every save also publishes to the other instances. Hand it to
/// [`Engine::with_redis`](crate::Engine::with_redis) instead.
pub struct RedisStore {
    commands: ConnectionManager,
    subscriber: ConnectionManager,
    pushes: Mutex<Option<mpsc::UnboundedReceiver<redis::PushInfo>>>,
    instance: String,
    lease: Duration,
    /// How long Redis keeps a record nobody renews: the engine's idle TTL.
    record_ttl: Duration,
    owned: Mutex<HashMap<SessionToken, Lease>>,
    followed: Mutex<HashMap<SessionToken, WeakSession>>,
    /// The tokens of the sessions owned or followed here, by the digest
    /// their channels are named with.
    names: keys::Names,
    /// One join at a time in this process, so that two requests for one
    /// session cannot both join it (the second would follow the first).
    joining: tokio::sync::Mutex<()>,
    /// Wakes the lease keeper early: a lease was lost or released, or a
    /// follower found its session without an owner.
    keeper: Notify,
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

/// How both connections come back after Redis restarts: a retry within two
/// seconds, then every half second to a second. redis-rs's default (a factor of 100 on a one-second
/// delay, capped at a minute, with jitter) waits one to two minutes between
/// attempts once a first retry has failed, and every command waits with
/// it: an owner could neither save nor renew its leases for minutes after a
/// short Redis restart (found by the fault schedule, `server/tests/chaos`).
fn reconnecting() -> ConnectionManagerConfig {
    ConnectionManagerConfig::new()
        .set_factor(2)
        .set_max_delay(500)
}

/// What an owner publishes on `stateside:{digest}:updates`. Generic so the
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
    /// Connects to `url`: `redis://[user:password@]host:port[/db]` (with
    /// a user and password for Redis ACLs, or `:password@` for
    /// `requirepass`). A wrong address or password fails here, at once.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        let client = redis::Client::open(url).map_err(StoreError::new)?;
        // One plain connection first: the managers below retry a refused
        // login for ever, where a misconfigured server should stop and say
        // Redis's own answer ("WRONGPASS ...").
        client
            .get_multiplexed_async_connection()
            .await
            .map_err(StoreError::new)?;
        let mut info = client.get_connection_info().clone();
        // Pub/sub on a multiplexed, self-healing connection needs RESP3.
        info.redis.protocol = ProtocolVersion::RESP3;
        let (pushes, receiver) = mpsc::unbounded_channel();
        let subscriber = redis::Client::open(info)
            .map_err(StoreError::new)?
            .get_connection_manager_with_config(
                reconnecting()
                    .set_push_sender(pushes)
                    .set_automatic_resubscription(),
            )
            .await
            .map_err(StoreError::new)?;
        let commands = client
            .get_connection_manager_with_config(reconnecting())
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
            names: keys::Names::default(),
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

    /// The name of a session's Redis key or channel `part` (`record`,
    /// `owner`, `fence`, `inbox`, `updates`, `wake`), for an operator or a
    /// test that looks at Redis: it names the session by a digest of its
    /// token, never the token.
    pub fn key(token: &SessionToken, part: &str) -> String {
        key(token, part)
    }

    fn owner_value(&self, fence: u64) -> String {
        format!("{}:{fence}", self.instance)
    }

    fn millis(duration: Duration) -> u64 {
        duration.as_millis().max(1) as u64
    }
}
