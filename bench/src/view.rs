//! What a tab's copy of its session shows, whichever transport carried the
//! stream. Both links hand each [`ServerMessage`] to a [`Follower`], which
//! applies it to the wire crate's checking `Mirror` (as the browser applies
//! it to its `Document`) and publishes the bench fields the workloads wait
//! on. A repeated or skipped version, an ack going back, or a patch that
//! does not apply breaks the session, and the workload that used it reports
//! itself inexact.

use serde_json::Value;
use stateside_wire::{ServerMessage, testing::Mirror};
use tokio::{sync::watch, time::Instant};

/// What the tab's mirror shows after the latest stream message.
#[derive(Clone, Debug)]
pub struct View {
    pub count: i64,
    /// The highest count ever shown: a value going backwards is a bug.
    pub max_count: i64,
    pub last_seq: i64,
    pub items: usize,
    pub acked: u64,
    pub version: u64,
    /// Bytes of the last message that changed the document, whole as the
    /// transport carried it (an SSE event's data, a websocket message)...
    pub update_bytes: usize,
    /// ...and of its `ops` alone, as JSON.
    pub ops_bytes: usize,
    /// Events the server answered busy to, resent.
    pub resent: u64,
    /// When the last message was applied.
    pub at: Instant,
    pub hydrated: bool,
    /// Why the stream stopped or could not be applied.
    pub broken: Option<String>,
}

impl View {
    fn new() -> Self {
        Self {
            count: 0,
            max_count: 0,
            last_seq: -1,
            items: 0,
            acked: 0,
            version: 0,
            update_bytes: 0,
            ops_bytes: 0,
            resent: 0,
            at: Instant::now(),
            hydrated: false,
            broken: None,
        }
    }
}

/// Applies a stream to a mirror and publishes what it shows.
pub struct Follower {
    mirror: Mirror,
    publish: watch::Sender<View>,
}

impl Follower {
    pub fn new() -> (Self, watch::Receiver<View>) {
        let (publish, view) = watch::channel(View::new());
        let follower = Self {
            mirror: Mirror::default(),
            publish,
        };
        (follower, view)
    }

    /// Checks and applies one message that arrived in `bytes` bytes; an
    /// error says why the stream can no longer be followed.
    pub fn apply(&mut self, message: &ServerMessage, bytes: usize) -> Result<(), String> {
        let moved = self
            .mirror
            .apply(message)
            .map_err(|violation| violation.to_string())?;
        let document = self.mirror.document();
        let at = Instant::now();
        let bench = document.value().get("bench");
        let field = |name: &str| bench.and_then(|bench| bench.get(name));
        let count = field("count").and_then(Value::as_i64).unwrap_or(0);
        let last_seq = field("last_seq").and_then(Value::as_i64).unwrap_or(-1);
        let items = field("items").and_then(Value::as_array).map_or(0, Vec::len);
        let ops_bytes = match message {
            ServerMessage::Update(update) if moved => {
                Some(serde_json::to_vec(&update.ops).map_or(0, |ops| ops.len()))
            }
            _ => None,
        };
        let (acked, version) = (document.acked(), document.version());
        self.publish.send_modify(|view| {
            view.count = count;
            view.max_count = view.max_count.max(count);
            view.last_seq = last_seq;
            view.items = items;
            view.acked = acked;
            view.version = version;
            if let Some(ops_bytes) = ops_bytes {
                view.update_bytes = bytes;
                view.ops_bytes = ops_bytes;
            }
            view.at = at;
            view.hydrated = true;
        });
        Ok(())
    }

    /// The highest seq the server has applied.
    pub fn acked(&self) -> u64 {
        self.mirror.document().acked()
    }

    pub fn count_resent(&self, events: usize) {
        self.publish
            .send_modify(|view| view.resent += events as u64);
    }

    /// The stream can no longer be followed: whoever waits on it fails.
    pub fn broken(self, why: String) {
        self.publish.send_modify(|view| view.broken = Some(why));
    }
}
