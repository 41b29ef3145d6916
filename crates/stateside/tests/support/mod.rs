//! What the engine's integration tests share: a counter state with a few
//! handlers, a client that mirrors the document exactly as the browser does,
//! and a capture of the engine's logs.
//!
//! The client reads the stream through the wire crate's checking
//! [`Mirror`], so every test that reads through it also checks that each
//! message is exactly the next one.

#![allow(dead_code)] // each test binary uses its own subset

mod redis_peek;
pub mod redis_server;

use std::{
    sync::{Arc, Mutex},
    time::Duration,
};

use serde::{Deserialize, Serialize};
use stateside::{
    App, Config, Cx, Engine, HandlerId, SessionHandle, State, Task,
    transport::{ClientEvent, Notice, Submitted},
};
use stateside_wire::{Document, ServerMessage, testing::Mirror};
use tokio::sync::broadcast::{self, error::RecvError};

#[derive(Clone, Default, Debug, PartialEq, Serialize, Deserialize)]
pub struct Counter {
    pub count: i64,
    /// The order in which things happened, by their tag.
    pub log: Vec<String>,
}

impl State for Counter {
    const NAME: &'static str = "counter";
}

pub const INCREMENT: HandlerId<()> = HandlerId::new("increment");
pub const RECORD: HandlerId<String> = HandlerId::new("record");
pub const SLOW_RECORD: HandlerId<(String, u64)> = HandlerId::new("slow_record");
pub const LOCKED_INCREMENTS: HandlerId<u32> = HandlerId::new("locked_increments");
pub const SLEEP_THEN_RECORD: HandlerId<(String, u64)> = HandlerId::new("sleep_then_record");

async fn increment(mut cx: Cx<Counter>, (): ()) -> anyhow::Result<()> {
    cx.count += 1;
    Ok(())
}

async fn record(mut cx: Cx<Counter>, tag: String) -> anyhow::Result<()> {
    cx.log.push(tag);
    Ok(())
}

/// Records `start:tag`, sleeps holding the lock, then records `end:tag`.
async fn slow_record(mut cx: Cx<Counter>, (tag, ms): (String, u64)) -> anyhow::Result<()> {
    cx.log.push(format!("start:{tag}"));
    tokio::time::sleep(Duration::from_millis(ms)).await;
    cx.log.push(format!("end:{tag}"));
    Ok(())
}

async fn locked_increments(mut task: Task<Counter>, times: u32) -> anyhow::Result<()> {
    for _ in 0..times {
        task.lock().await.count += 1;
        tokio::task::yield_now().await;
    }
    Ok(())
}

async fn sleep_then_record(
    mut task: Task<Counter>,
    (tag, ms): (String, u64),
) -> anyhow::Result<()> {
    tokio::time::sleep(Duration::from_millis(ms)).await;
    task.lock().await.log.push(tag);
    Ok(())
}

/// The shared handlers, for a test to add its own to.
pub fn app() -> App {
    App::new()
        .on(INCREMENT, increment)
        .on(RECORD, record)
        .on(SLOW_RECORD, slow_record)
        .background(LOCKED_INCREMENTS, locked_increments)
        .background(SLEEP_THEN_RECORD, sleep_then_record)
}

/// Defaults, except a stream buffer deep enough that a test reading its
/// stream only now and then never lags.
pub fn config() -> Config {
    Config {
        stream_buffer: 1 << 16,
        ..Config::default()
    }
}

pub fn engine() -> Engine {
    Engine::new(app(), config())
}

/// A client of one session: numbers its events and mirrors the document
/// by applying the stream exactly as the browser does.
pub struct Client {
    pub session: SessionHandle,
    mirror: Mirror,
    /// Every message received, in order.
    pub received: Vec<Arc<ServerMessage>>,
    next_seq: u64,
    stream: broadcast::Receiver<Arc<ServerMessage>>,
}

impl Client {
    pub fn connect(session: SessionHandle) -> Self {
        Self::resume(session, Document::default(), None)
    }

    /// Reconnects with the document a client kept, as after a dropped
    /// connection: the server sends what was missed.
    pub fn resume(session: SessionHandle, document: Document, since: Option<u64>) -> Self {
        let subscription = session.subscribe(since).expect("a stream under the limit");
        let mut client = Self {
            next_seq: session.next_seq(),
            session,
            mirror: Mirror::new(document),
            received: Vec::new(),
            stream: subscription.live,
        };
        for message in subscription.backlog {
            client.apply(message);
        }
        client
    }

    pub fn send<A: Serialize>(&mut self, handler: HandlerId<A>, args: A) -> Submitted {
        let mut event: ClientEvent = handler.call(&args).unwrap();
        event.seq = self.next_seq;
        self.next_seq += 1;
        self.session.submit(event).expect("event accepted")
    }

    /// The seq of the last event sent.
    pub fn last_seq(&self) -> u64 {
        self.next_seq - 1
    }

    /// The client's copy of the session document.
    pub fn document(&self) -> &Document {
        self.mirror.document()
    }

    fn apply(&mut self, message: Arc<ServerMessage>) {
        if let Err(violation) = self.mirror.apply(&message) {
            panic!("{violation}: {message:?}");
        }
        self.received.push(message);
    }

    /// Receives and applies the next message.
    pub async fn recv(&mut self) -> Arc<ServerMessage> {
        let message = match self.stream.recv().await {
            Ok(message) => message,
            Err(RecvError::Lagged(_)) => panic!("test stream lagged"),
            Err(RecvError::Closed) => panic!("stream closed"),
        };
        self.apply(Arc::clone(&message));
        message
    }

    /// Applies whatever has already arrived, without waiting.
    pub fn catch_up(&mut self) {
        while let Ok(message) = self.stream.try_recv() {
            self.apply(message);
        }
    }

    /// Whether the stream has ended (the server closed it).
    pub async fn is_closed(&mut self) -> bool {
        loop {
            match self.stream.recv().await {
                Ok(message) => self.apply(message),
                Err(RecvError::Closed) => return true,
                Err(RecvError::Lagged(_)) => return false,
            }
        }
    }

    /// Applies stream messages until `done` holds for the mirrored state.
    pub async fn until<S: State>(&mut self, done: impl Fn(&S) -> bool) -> S {
        tokio::time::timeout(Duration::from_secs(60), async {
            loop {
                let state: S = self.document().state().unwrap();
                if done(&state) {
                    return state;
                }
                self.recv().await;
            }
        })
        .await
        .expect("condition reached in time")
    }

    /// Waits until every sent event is acknowledged.
    pub async fn settled<S: State>(&mut self) -> S {
        let target = self.last_seq();
        tokio::time::timeout(Duration::from_secs(60), async {
            while self.document().acked() < target {
                self.recv().await;
            }
        })
        .await
        .expect("all events acknowledged");
        self.document().state().unwrap()
    }

    /// The error notices received so far.
    pub fn notices(&self) -> Vec<Notice> {
        self.received
            .iter()
            .filter_map(|message| match &**message {
                ServerMessage::Update(update) => update.error.clone(),
                ServerMessage::Snapshot { .. } => None,
            })
            .collect()
    }

    /// The versions of the patches received so far.
    pub fn versions(&self) -> Vec<u64> {
        self.received
            .iter()
            .filter_map(|message| match &**message {
                ServerMessage::Update(update) if !update.ops.is_empty() => Some(update.version),
                _ => None,
            })
            .collect()
    }

    /// Waits for the session to be quiet (every event acknowledged, nothing
    /// queued, no task left) and checks the mirror against the server's
    /// state.
    pub async fn quiesce<S: State + PartialEq + std::fmt::Debug + Send + Sync>(&mut self) -> S {
        self.settled::<S>().await;
        tokio::time::timeout(Duration::from_secs(60), async {
            while !self.session.is_quiet() {
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
        })
        .await
        .expect("the session went quiet");
        assert!(self.session.tasks().is_empty());
        let server: S = self.session.read(|state: &S| state.clone()).await;
        self.catch_up();
        assert_eq!(self.document().state::<S>().unwrap(), server);
        server
    }
}

/// Log lines written while the returned guard lives, on this thread (so,
/// under a current-thread runtime, by every task of the test).
pub fn capture_logs() -> (Logs, tracing::subscriber::DefaultGuard) {
    let logs = Logs::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    (logs, tracing::subscriber::set_default(subscriber))
}

#[derive(Clone, Default)]
pub struct Logs(Arc<Mutex<Vec<u8>>>);

impl Logs {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }

    /// The captured lines that contain `needle`.
    pub fn lines_with(&self, needle: &str) -> Vec<String> {
        self.text()
            .lines()
            .filter(|line| line.contains(needle))
            .map(str::to_owned)
            .collect()
    }
}

impl std::io::Write for Logs {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
