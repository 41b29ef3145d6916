//! A small app and a client mirror shared by the engine's integration tests.

#![allow(dead_code)] // each test binary uses its own subset

use std::time::Duration;

use serde::{Deserialize, Serialize};
use stateside::{
    App, ClientEvent, Config, Cx, Engine, HandlerId, SessionHandle, State, Submitted, Task,
};
use stateside_wire::{Document, ServerMessage};
use tokio::sync::broadcast::error::RecvError;

#[derive(Clone, Default, Debug, PartialEq, Serialize, Deserialize)]
pub struct Counter {
    pub count: i64,
    /// The order in which foreground events ran, by their tag.
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

async fn slow_record(mut cx: Cx<Counter>, (tag, ms): (String, u64)) -> anyhow::Result<()> {
    tokio::time::sleep(Duration::from_millis(ms)).await;
    cx.log.push(tag);
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

pub fn app() -> App {
    App::new()
        .on(INCREMENT, increment)
        .on(RECORD, record)
        .on(SLOW_RECORD, slow_record)
        .background(LOCKED_INCREMENTS, locked_increments)
        .background(SLEEP_THEN_RECORD, sleep_then_record)
}

pub fn engine() -> Engine {
    Engine::new(app(), Config::default())
}

/// A client of one session: numbers its events and mirrors the document
/// by applying the stream exactly as the browser does.
pub struct Client {
    pub session: SessionHandle,
    pub document: Document,
    next_seq: u64,
    stream: tokio::sync::broadcast::Receiver<std::sync::Arc<ServerMessage>>,
}

impl Client {
    pub fn connect(session: SessionHandle) -> Self {
        let subscription = session.subscribe(None);
        let mut document = Document::default();
        for message in &subscription.backlog {
            document.apply(message).expect("backlog applies");
        }
        Self {
            session,
            document,
            next_seq: 1,
            stream: subscription.live,
        }
    }

    pub fn send<A: Serialize>(&mut self, handler: HandlerId<A>, args: A) -> Submitted {
        let mut event: ClientEvent = handler.call(&args).unwrap();
        event.seq = self.next_seq;
        self.next_seq += 1;
        self.session.submit(event).expect("event accepted")
    }

    /// Applies stream messages until `done` holds for the mirrored counter.
    pub async fn until(&mut self, done: impl Fn(&Counter) -> bool) -> Counter {
        tokio::time::timeout(Duration::from_secs(20), async {
            loop {
                let counter: Counter = self.document.state().unwrap();
                if done(&counter) {
                    return counter;
                }
                match self.stream.recv().await {
                    Ok(message) => self.document.apply(&message).expect("update applies"),
                    Err(RecvError::Lagged(_)) => panic!("test stream lagged"),
                    Err(RecvError::Closed) => panic!("stream closed"),
                }
            }
        })
        .await
        .expect("condition reached in time")
    }

    /// Waits until every sent event is acknowledged.
    pub async fn settled(&mut self) -> Counter {
        let target = self.next_seq - 1;
        tokio::time::timeout(Duration::from_secs(20), async {
            while self.document.acked() < target {
                let message = self.stream.recv().await.expect("stream open");
                self.document.apply(&message).expect("update applies");
            }
        })
        .await
        .expect("all events acknowledged");
        self.document.state().unwrap()
    }
}
