//! A real engine session, on a fresh single-threaded runtime per input, with
//! a small app whose handlers make every kind of change: appends, inserts and
//! removals under keys that need JSON Pointer escaping, failures that roll
//! back, background tasks, and handlers that change nothing.
//!
//! A runtime per input costs microseconds and keeps inputs independent:
//! dropping it drops whatever an input left behind (gap timers for held
//! events, tasks), so nothing leaks from one run into the next and a crash
//! reproduces from its input alone.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use stateside::{App, Config, Cx, Engine, HandlerId, SessionHandle, State, Task};
use tokio::runtime::Runtime;

#[derive(Clone, Default, Debug, PartialEq, Serialize, Deserialize)]
pub struct Pad {
    /// The tags of `NOTE` events, in the order their handlers ran.
    pub notes: Vec<u64>,
    pub entries: BTreeMap<String, i64>,
    /// Locked increments by `BUMP` tasks.
    pub bumps: u64,
}

impl State for Pad {
    const NAME: &'static str = "pad";
}

pub const NOTE: HandlerId<u64> = HandlerId::new("fuzz/note");
pub const PUT: HandlerId<(String, i64)> = HandlerId::new("fuzz/put");
pub const REMOVE: HandlerId<String> = HandlerId::new("fuzz/remove");
/// Changes the state, then fails: the change must roll back.
pub const FAIL: HandlerId<String> = HandlerId::new("fuzz/fail");
/// A background task taking the lock `n % 8` times.
pub const BUMP: HandlerId<u8> = HandlerId::new("fuzz/bump");
pub const NOOP: HandlerId<()> = HandlerId::new("fuzz/noop");

async fn note(mut pad: Cx<Pad>, tag: u64) -> anyhow::Result<()> {
    pad.notes.push(tag);
    Ok(())
}

async fn put(mut pad: Cx<Pad>, (key, value): (String, i64)) -> anyhow::Result<()> {
    pad.entries.insert(key, value);
    Ok(())
}

async fn remove(mut pad: Cx<Pad>, key: String) -> anyhow::Result<()> {
    pad.entries.remove(&key);
    Ok(())
}

async fn fail(mut pad: Cx<Pad>, key: String) -> anyhow::Result<()> {
    pad.entries.insert(key, -1);
    anyhow::bail!("fails on purpose")
}

async fn bump(mut task: Task<Pad>, n: u8) -> anyhow::Result<()> {
    for _ in 0..n % 8 {
        task.lock().await.bumps += 1;
    }
    Ok(())
}

async fn noop(_pad: Cx<Pad>, (): ()) -> anyhow::Result<()> {
    Ok(())
}

pub fn app() -> App {
    App::new()
        .on(NOTE, note)
        .on(PUT, put)
        .on(REMOVE, remove)
        .on(FAIL, fail)
        .background(BUMP, bump)
        .on(NOOP, noop)
}

/// One session of [`app`] in a memory engine, and the runtime it lives on.
pub struct Rig {
    /// Declared first, so the session is dropped before its runtime.
    pub session: SessionHandle,
    pub engine: Engine,
    pub runtime: Runtime,
}

impl Rig {
    pub fn new(config: Config) -> Self {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .expect("a runtime builds");
        let engine = Engine::new(app(), config);
        // The session spawns its actor, so it is created inside the runtime.
        let session = {
            let _entered = runtime.enter();
            engine.open().unwrap()
        };
        Self {
            session,
            engine,
            runtime,
        }
    }

    /// Runs the actor and the tasks until nothing is queued or running.
    /// Events held for a missing seq stay held.
    pub async fn settle(&self) {
        while !self.session.is_quiet() {
            tokio::task::yield_now().await;
        }
    }

    /// The server's document as a fresh tab would get it.
    pub fn fresh_snapshot(&self) -> stateside::transport::ServerMessage {
        let subscription = self.session.subscribe(None);
        let [snapshot] = &subscription.backlog[..] else {
            panic!("a fresh stream starts with one snapshot")
        };
        (**snapshot).clone()
    }
}
