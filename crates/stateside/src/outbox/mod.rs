//! What a session has told its clients: the published document
//! ([`shown`]), its version, a ring of recent updates for replay, and the
//! live fan-out.
//! On a Redis follower it also follows the owner ([`follow`]).

#[cfg(feature = "redis")]
mod follow;
mod ring;
mod shown;

use std::sync::{Arc, Weak};

use serde_json::Value;
use stateside_wire::{Action, Notice, PatchOperation, ServerMessage, State, Update};
use tokio::sync::broadcast;

use crate::{
    config::Config,
    error::Error,
    sequencer::AckWatermark,
    store::record::{StoredSession, TaskLedger},
    transport::Subscription,
};

use ring::ReplayRing;
pub(crate) use shown::Shown;

pub(crate) struct Outbox {
    version: u64,
    /// What clients have been told is applied. With a durable store this
    /// trails `applied` until the store has the events.
    acked: u64,
    applied: AckWatermark,
    durable: bool,
    /// The document as clients see it at `version`: the base of every patch.
    pub(crate) shown: Shown,
    ring: ReplayRing,
    /// The last snapshot sent, while a stream still holds it: tabs that
    /// subscribe at the same moment share one copy of the document.
    snapshot: Weak<ServerMessage>,
    stream_buffer: usize,
    max_streams: usize,
    /// Created for the first subscriber and dropped when the last one has
    /// gone: a channel preallocates its whole buffer, which would otherwise
    /// dominate the memory of an idle session.
    live: Option<broadcast::Sender<Arc<ServerMessage>>>,
    /// On a Redis owner, what was sent live since the last save: the fenced
    /// save publishes it to the other instances, so they see only what the
    /// store accepted. `None` everywhere else.
    relay: Option<Vec<Arc<ServerMessage>>>,
    /// The running tasks, as the record lists them.
    pub(crate) tasks: TaskLedger,
    /// Notices raised while no tab listened, for the next one that does.
    held: Vec<Notice>,
    /// A Redis follower's copy, which may be behind what a tab saw from
    /// the owner (see `start_stream`).
    follower: bool,
}

/// How the session an outbox belongs to is run.
pub(crate) enum Runner {
    /// By this process alone; a `durable` one holds acks back until the
    /// store has the events ([`Outbox::confirm_persisted`]).
    Alone { durable: bool },
    /// By this process, as a Redis owner: durable, and what is sent live is
    /// relayed with the next save.
    Owner,
    /// By another process: this copy follows the owner's saves.
    Follower,
}

/// Notices kept for a tab that is away; older ones are dropped first.
const HELD_NOTICES: usize = 8;

impl Outbox {
    /// An outbox that starts from `stored` (or from nothing), for a session
    /// run as `runner` says.
    pub(crate) fn new(config: &Config, stored: StoredSession, runner: Runner) -> Self {
        let durable = !matches!(runner, Runner::Alone { durable: false });
        Self {
            version: stored.version,
            acked: stored.applied_through,
            applied: AckWatermark::resumed(stored.applied_through, &stored.applied_ahead),
            durable,
            shown: Shown::stored(stored.document, stored.backend),
            ring: ReplayRing::new(config.replay_ring, config.replay_ring_bytes),
            snapshot: Weak::new(),
            stream_buffer: config.stream_buffer.max(1),
            max_streams: config.max_streams_per_session,
            live: None,
            relay: matches!(runner, Runner::Owner).then(Vec::new),
            follower: matches!(runner, Runner::Follower),
            tasks: TaskLedger {
                last: stored.last_task,
                running: stored.tasks,
            },
            held: Vec::new(),
        }
    }

    pub(crate) fn version(&self) -> u64 {
        self.version
    }

    pub(crate) fn mark_applied(&mut self, seq: u64) {
        let through = self.applied.applied(seq);
        if !self.durable {
            self.acked = through;
        }
    }

    pub(crate) fn applied_through(&self) -> u64 {
        self.applied.through()
    }

    /// The record a store keeps of this session.
    pub(crate) fn stored(&self) -> Vec<u8> {
        serde_json::to_vec(&StoredSession {
            version: self.version,
            applied_through: self.applied.through(),
            applied_ahead: self.applied.ahead(),
            document: self.shown.document(),
            backend: self.shown.backend(),
            last_task: self.tasks.last,
            tasks: &self.tasks.running,
        })
        .expect("a JSON map serialises")
    }

    pub(crate) fn acked(&self) -> u64 {
        self.acked
    }

    /// The store has every event up to `through`: acknowledge them. Not
    /// relayed: other instances take the ack from the saved record.
    pub(crate) fn confirm_persisted(&mut self, through: u64) {
        if through > self.acked {
            self.acked = through;
            let message = Arc::new(ServerMessage::Update(self.ack_update()));
            self.send_local(message);
        }
    }

    /// What the next save must publish (see `relay`).
    pub(crate) fn relayed(&self) -> Vec<Arc<ServerMessage>> {
        self.relay.clone().unwrap_or_default()
    }

    /// The first `count` relayed messages were published.
    pub(crate) fn drop_relayed(&mut self, count: usize) {
        if let Some(relay) = &mut self.relay {
            relay.drain(..count.min(relay.len()));
        }
    }

    pub(crate) fn has_subscribers(&self) -> bool {
        self.live
            .as_ref()
            .is_some_and(|live| live.receiver_count() > 0)
    }

    /// Ends every stream of this session (their receivers see `Closed`).
    pub(crate) fn close_streams(&mut self) {
        self.live = None;
    }

    /// Sends one update. Only updates that change the document get a new
    /// version and a place in the replay ring; acks, notices and actions are
    /// for whoever is listening now.
    pub(crate) fn publish(
        &mut self,
        ops: Vec<PatchOperation>,
        actions: Vec<Action>,
        error: Option<Notice>,
    ) {
        let versioned = !ops.is_empty();
        if versioned {
            self.version += 1;
        }
        let message = Arc::new(ServerMessage::Update(Update {
            version: self.version,
            ops,
            acked: self.acked,
            actions,
            error,
            missing: None,
        }));
        if versioned {
            self.remember(&message);
        }
        self.send_live(message);
    }

    /// Tells the tabs listening now, or, if none is, the next one that
    /// subscribes: a notice about something the user did not see happen
    /// (a task lost to a restart) must not vanish because no tab was there.
    pub(crate) fn notify(&mut self, notice: Notice) {
        if self.has_subscribers() {
            self.publish(Vec::new(), Vec::new(), Some(notice));
        } else {
            if self.held.len() == HELD_NOTICES {
                self.held.remove(0);
            }
            self.held.push(notice);
        }
    }

    /// Keeps a versioned update for replay.
    fn remember(&mut self, message: &Arc<ServerMessage>) {
        self.ring.remember(message);
        // A snapshot of the old version is of no more use.
        self.snapshot = Weak::new();
    }

    fn send_live(&mut self, message: Arc<ServerMessage>) {
        if let Some(relay) = &mut self.relay {
            relay.push(Arc::clone(&message));
        }
        self.send_local(message);
    }

    fn send_local(&mut self, message: Arc<ServerMessage>) {
        // No receivers is normal: the tab may be away. The ring covers it.
        if let Some(live) = &self.live
            && live.send(message).is_err()
        {
            self.live = None;
        }
    }

    /// Asks the client to resend from `seq` (see `Update::missing`).
    pub(crate) fn request_resend(&mut self, seq: u64) {
        let message = Arc::new(ServerMessage::Update(Update {
            missing: Some(seq),
            ..self.ack_update()
        }));
        self.send_live(message);
    }

    /// Starts a stream for a client that last applied `since` (or nothing),
    /// unless the session has as many streams as it may.
    pub(crate) fn subscribe(&mut self, since: Option<u64>) -> Result<Subscription, Error> {
        if self.live.as_ref().map_or(0, |live| live.receiver_count()) >= self.max_streams {
            return Err(Error::TooManyStreams {
                limit: self.max_streams,
            });
        }
        Ok(self.start_stream(since))
    }

    /// Restarts a stream that fell behind, in place of its old receiver,
    /// which is dropped first so that it does not count against the limit.
    pub(crate) fn restart_stream(
        &mut self,
        since: Option<u64>,
        old: broadcast::Receiver<Arc<ServerMessage>>,
    ) -> Subscription {
        drop(old);
        self.start_stream(since)
    }

    fn start_stream(&mut self, since: Option<u64>) -> Subscription {
        let buffer = self.stream_buffer;
        let live = self
            .live
            .get_or_insert_with(|| broadcast::channel(buffer).0)
            .subscribe();
        let mut backlog = match since {
            Some(since) if since == self.version => vec![self.ack_only()],
            Some(since) if since < self.version => match self.ring.replay_from(since) {
                Some(mut missed) => {
                    missed.push(self.ack_only());
                    missed
                }
                None => vec![self.snapshot()],
            },
            // A tab ahead of a follower's copy saw the owner's latest,
            // which this copy gets with the owner's next save (or a
            // takeover renumbers past it): an older snapshot would take
            // the tab's document back, so it waits for the live feed.
            Some(since) if self.follower => {
                tracing::debug!(
                    since,
                    version = self.version,
                    "a tab is ahead of this follower"
                );
                Vec::new()
            }
            // Otherwise a client from the future: the server lost versions.
            _ => vec![self.snapshot()],
        };
        let held = std::mem::take(&mut self.held);
        backlog.extend(held.into_iter().map(|notice| {
            Arc::new(ServerMessage::Update(Update {
                error: Some(notice),
                ..self.ack_update()
            }))
        }));
        Subscription { backlog, live }
    }

    /// One state as it was published; see [`Shown::state`].
    pub(crate) fn state<S: State>(&self) -> S {
        self.shown.state()
    }

    /// The whole document, shared with any stream still sending the same
    /// one.
    pub(crate) fn snapshot(&mut self) -> Arc<ServerMessage> {
        if let Some(snapshot) = self.snapshot.upgrade()
            && matches!(*snapshot, ServerMessage::Snapshot { version, acked, .. }
                if version == self.version && acked == self.acked)
        {
            return snapshot;
        }
        let snapshot = Arc::new(ServerMessage::Snapshot {
            version: self.version,
            acked: self.acked,
            state: Value::Object(self.shown.document()),
        });
        self.snapshot = Arc::downgrade(&snapshot);
        snapshot
    }

    fn ack_only(&self) -> Arc<ServerMessage> {
        Arc::new(ServerMessage::Update(self.ack_update()))
    }

    fn ack_update(&self) -> Update {
        Update {
            version: self.version,
            acked: self.acked,
            ..Update::default()
        }
    }
}
