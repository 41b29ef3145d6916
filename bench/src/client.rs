//! One browser tab speaking Stateside's protocol: `open_session`, events
//! through `send_events`, and the SSE patch stream applied to a copy of the
//! document with the wire crate's own apply, as the browser does, through
//! its checking `Mirror`. A repeated or skipped version, an ack going back,
//! or a patch that does not apply breaks the session, and the workload that
//! used it reports itself inexact.

use std::{net::SocketAddr, sync::Arc, time::Duration};

use anyhow::{Context, Result, anyhow, bail};
use bytes::Bytes;
use serde_json::Value;
use stateside_wire::{
    ClientEvent, OPEN_PATH, Receipt, SEND_PATH, STREAM_PATH, SendRequest, ServerMessage,
    SessionInfo, testing::Mirror,
};
use tokio::{sync::watch, task::JoinHandle, time::Instant};

use crate::{
    conn::{Conn, FORM, JSON, Pool},
    sse::Events,
};

/// The bench state's handlers, as `app/src/bench.rs` names them.
pub mod handler {
    pub const INCREMENT: &str = "bench/increment";
    pub const INCREMENT_TAGGED: &str = "bench/increment_tagged";
    pub const SLOW: &str = "bench/slow";
    pub const BG_INCREMENT: &str = "bench/bg_increment";
    pub const BG_SLOW: &str = "bench/bg_slow";
    pub const APPEND_ITEM: &str = "bench/append_item";
}

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
    /// JSON bytes of the last message that changed the document...
    pub update_bytes: usize,
    /// ...and of its `ops` alone.
    pub ops_bytes: usize,
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
            at: Instant::now(),
            hydrated: false,
            broken: None,
        }
    }
}

pub struct Session {
    token: String,
    posts: Arc<Pool>,
    next_seq: u64,
    view: watch::Receiver<View>,
    follower: JoinHandle<()>,
}

impl Session {
    /// Opens a session with its own connection for events.
    pub async fn open(addr: SocketAddr) -> Result<Self> {
        Self::open_with(addr, Pool::new(addr, 1)).await
    }

    /// Opens a session and its stream, and waits for the first snapshot.
    pub async fn open_with(addr: SocketAddr, posts: Arc<Pool>) -> Result<Self> {
        let reply = posts.post(OPEN_PATH, FORM, Bytes::new()).await?;
        let info: SessionInfo = serde_json::from_slice(&reply)
            .with_context(|| format!("open_session replied {}", String::from_utf8_lossy(&reply)))?;
        let body = Conn::open(addr)
            .await?
            .get(&format!("{STREAM_PATH}?token={}", info.token))
            .await?;
        // The stream's connection lives on in hyper's task while its body does.
        let (publish, view) = watch::channel(View::new());
        let follower = tokio::spawn(follow(Events::new(body), publish));
        let mut session = Self {
            token: info.token,
            posts,
            next_seq: info.next_seq,
            view,
            follower,
        };
        session
            .until(|view| view.hydrated, Duration::from_secs(60))
            .await?;
        Ok(session)
    }

    pub fn token(&self) -> &str {
        &self.token
    }

    pub fn view(&self) -> View {
        self.view.borrow().clone()
    }

    /// Sends one event in its own request.
    pub async fn send(&mut self, handler: &str, args: Value) -> Result<()> {
        self.send_batch(&[(handler, args)]).await
    }

    /// Sends events in one request, as the browser client batches them;
    /// what the server answers `Busy` to is resent after a pause.
    pub async fn send_batch(&mut self, events: &[(&str, Value)]) -> Result<()> {
        let events = events
            .iter()
            .map(|(handler, args)| {
                self.next_seq += 1;
                ClientEvent {
                    seq: self.next_seq - 1,
                    handler: (*handler).to_owned(),
                    args: args.clone(),
                }
            })
            .collect();
        let mut request = SendRequest {
            token: self.token.clone(),
            events,
        };
        while !request.events.is_empty() {
            let body = serde_json::to_vec(&request)?;
            let reply = self.posts.post(SEND_PATH, JSON, body.into()).await?;
            let receipts: Vec<Receipt> = serde_json::from_slice(&reply)?;
            let mut taken = 0;
            for receipt in receipts {
                match receipt {
                    Receipt::Accepted | Receipt::Held | Receipt::Duplicate => taken += 1,
                    Receipt::Busy => break,
                    Receipt::Refused(refusal) => bail!("event refused: {}", refusal.message),
                }
            }
            request.events.drain(..taken);
            if !request.events.is_empty() {
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
        }
        Ok(())
    }

    /// Waits until the mirror satisfies `done`; fails if the stream broke.
    pub async fn until(&mut self, done: impl Fn(&View) -> bool, limit: Duration) -> Result<View> {
        let waited = tokio::time::timeout(
            limit,
            self.view
                .wait_for(|view| view.broken.is_some() || done(view)),
        )
        .await;
        let view = waited
            .map_err(|_| anyhow!("no matching update within {limit:?}"))?
            .map_err(|_| anyhow!("stream follower gone"))?
            .clone();
        match &view.broken {
            Some(why) => bail!("stream broken: {why}"),
            None => Ok(view),
        }
    }

    /// Sends one event and waits for both its reply and the update that
    /// satisfies `done`; returns the time until the later of the two.
    pub async fn round_trip(
        &mut self,
        handler: &str,
        args: Value,
        done: impl Fn(&View) -> bool,
    ) -> Result<Duration> {
        let start = Instant::now();
        self.send(handler, args).await?;
        let replied = Instant::now();
        let view = self.until(done, Duration::from_secs(120)).await?;
        Ok(replied.max(view.at) - start)
    }

    /// A round trip of `increment`.
    pub async fn increment(&mut self) -> Result<Duration> {
        let target = self.view.borrow().max_count + 1;
        self.round_trip(handler::INCREMENT, Value::Null, |view| view.count >= target)
            .await
    }

    /// Closes this tab's idle event connections; the stream stays open.
    pub fn close_posts(&self) {
        self.posts.close_idle();
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        self.follower.abort();
    }
}

/// Applies the stream to a mirror and publishes what it shows.
async fn follow(mut events: Events, publish: watch::Sender<View>) {
    let mut mirror = Mirror::default();
    let broken = loop {
        let data = match events.next().await {
            Ok(Some(data)) => data,
            Ok(None) => break "stream closed".to_owned(),
            Err(error) => break format!("stream failed: {error:#}"),
        };
        let message: ServerMessage = match serde_json::from_slice(&data) {
            Ok(message) => message,
            Err(error) => break format!("unreadable message: {error}"),
        };
        let moved = match mirror.apply(&message) {
            Ok(moved) => moved,
            Err(violation) => break violation.to_string(),
        };
        let document = mirror.document();
        let at = Instant::now();
        let bench = document.value().get("bench");
        let field = |name: &str| bench.and_then(|bench| bench.get(name));
        let count = field("count").and_then(Value::as_i64).unwrap_or(0);
        let last_seq = field("last_seq").and_then(Value::as_i64).unwrap_or(-1);
        let items = field("items").and_then(Value::as_array).map_or(0, Vec::len);
        let ops_bytes = match &message {
            ServerMessage::Update(update) if moved => {
                Some(serde_json::to_vec(&update.ops).map_or(0, |ops| ops.len()))
            }
            _ => None,
        };
        publish.send_modify(|view| {
            view.count = count;
            view.max_count = view.max_count.max(count);
            view.last_seq = last_seq;
            view.items = items;
            view.acked = document.acked();
            view.version = document.version();
            if let Some(ops_bytes) = ops_bytes {
                view.update_bytes = data.len();
                view.ops_bytes = ops_bytes;
            }
            view.at = at;
            view.hydrated = true;
        });
    };
    publish.send_modify(|view| view.broken = Some(broken));
}
