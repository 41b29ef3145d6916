//! Rules 11 and 12: idle sessions expire and their memory is freed (but
//! never while a task runs), and a shutdown stops taking events, lets
//! running handlers finish within a grace period, then cancels the rest.

mod support;

use std::{
    sync::atomic::{AtomicI64, Ordering},
    time::Duration,
};

use serde::{Deserialize, Serialize};
use stateside::{Config, Cx, Engine, Error, HandlerId, State, Task};
use support::*;

/// A state that counts its live copies, to see a session's memory go.
#[derive(Clone, Default, Debug, PartialEq, Serialize, Deserialize)]
struct Tracked {
    value: u32,
    #[serde(skip)]
    live: Live,
}

static LIVE: AtomicI64 = AtomicI64::new(0);

#[derive(Debug, PartialEq)]
struct Live;

impl Live {
    fn counted() -> Self {
        LIVE.fetch_add(1, Ordering::SeqCst);
        Self
    }
}

impl Default for Live {
    fn default() -> Self {
        Self::counted()
    }
}

impl Clone for Live {
    fn clone(&self) -> Self {
        Self::counted()
    }
}

impl Drop for Live {
    fn drop(&mut self) {
        LIVE.fetch_sub(1, Ordering::SeqCst);
    }
}

impl State for Tracked {
    const NAME: &'static str = "tracked";
}

const TOUCH: HandlerId<()> = HandlerId::new("touch");
const WORK: HandlerId<u64> = HandlerId::new("work");
const LONG_HANDLER: HandlerId<u64> = HandlerId::new("long_handler");

async fn touch(mut cx: Cx<Tracked>, (): ()) -> anyhow::Result<()> {
    cx.value += 1;
    Ok(())
}

/// Sleeps `secs`, then records that it finished.
async fn work(mut task: Task<Counter>, secs: u64) -> anyhow::Result<()> {
    tokio::time::sleep(Duration::from_secs(secs)).await;
    task.lock().await.log.push(format!("worked {secs}s"));
    Ok(())
}

/// Changes the state, then takes `secs` to finish.
async fn long_handler(mut cx: Cx<Counter>, secs: u64) -> anyhow::Result<()> {
    cx.count += 1000;
    tokio::time::sleep(Duration::from_secs(secs)).await;
    Ok(())
}

const TTL: Duration = Duration::from_secs(60);

fn lifecycle_engine() -> Engine {
    engine_with(Config {
        idle_ttl: TTL,
        ..config()
    })
}

fn engine_with(config: Config) -> Engine {
    let app = app()
        .on(TOUCH, touch)
        .background(WORK, work)
        .on(LONG_HANDLER, long_handler);
    Engine::new(app, config)
}

async fn advance(by: Duration) {
    tokio::time::sleep(by).await;
}

#[tokio::test(start_paused = true)]
async fn an_idle_session_expires_and_is_freed() {
    let engine = lifecycle_engine();
    let session = engine.open().unwrap();
    let token = session.token();
    {
        let mut client = Client::connect(session.clone());
        client.send(TOUCH, ());
        client.quiesce::<Tracked>().await;
    }
    assert!(LIVE.load(Ordering::SeqCst) > 0);
    advance(TTL / 2).await;
    assert_eq!(engine.expire_idle(), 0, "not idle for the whole TTL yet");
    advance(TTL / 2).await;
    assert_eq!(engine.expire_idle(), 1);
    assert!(!engine.holds(&token));
    assert_eq!(engine.session_count(), 0);
    // A handle kept from before is refused, not silently accepted.
    let mut event = TOUCH.call(&()).unwrap();
    event.seq = 2;
    assert_eq!(session.submit(event), Err(Error::UnknownSession));
    drop(session);
    // Its actor lets go of the last reference once it sees the end.
    for _ in 0..10 {
        tokio::task::yield_now().await;
    }
    assert_eq!(LIVE.load(Ordering::SeqCst), 0, "its states were dropped");
}

#[tokio::test(start_paused = true)]
async fn activity_restarts_the_idle_clock() {
    let engine = lifecycle_engine();
    let mut client = Client::connect(engine.open().unwrap());
    let token = client.session.token();
    drop(client.session.subscribe(None).unwrap());
    for _ in 0..3 {
        advance(TTL / 2).await;
        client.send(INCREMENT, ());
        client.settled::<Counter>().await;
    }
    // A connected tab keeps it too.
    advance(TTL * 2).await;
    assert_eq!(engine.expire_idle(), 0);
    drop(client);
    assert_eq!(engine.expire_idle(), 1, "idle once the tab has gone");
    assert!(!engine.holds(&token));
}

#[tokio::test(start_paused = true)]
async fn a_session_with_a_running_task_is_kept_until_it_ends() {
    let engine = lifecycle_engine();
    let session = engine.open().unwrap();
    let token = session.token();
    let mut event = WORK.call(&600).unwrap();
    event.seq = 1;
    session.submit(event).unwrap();
    drop(session);
    advance(TTL * 5).await;
    assert_eq!(engine.expire_idle(), 0, "its task is still running");
    // It ends at 600 s.
    advance(Duration::from_secs(310)).await;
    let session = engine.resume(&token).await.unwrap().expect("kept");
    assert!(session.is_quiet(), "the task has ended");
    assert_eq!(
        session.read(|c: &Counter| c.log.clone()).await,
        ["worked 600s"]
    );
    assert_eq!(
        engine.expire_idle(),
        0,
        "the idle clock restarted at its end"
    );
    advance(TTL).await;
    assert_eq!(engine.expire_idle(), 1);
}

#[tokio::test(start_paused = true)]
async fn close_refuses_events_and_ends_streams() {
    let engine = lifecycle_engine();
    let mut client = Client::connect(engine.open().unwrap());
    engine.close();
    let mut event = INCREMENT.call(&()).unwrap();
    event.seq = 1;
    assert_eq!(client.session.submit(event), Err(Error::ShuttingDown));
    assert!(client.is_closed().await);
}

#[tokio::test(start_paused = true)]
async fn drain_lets_running_work_finish_within_the_grace_period() {
    let engine = lifecycle_engine();
    let mut client = Client::connect(engine.open().unwrap());
    client.send(WORK, 5);
    client.send(LONG_HANDLER, 3);
    client.send(INCREMENT, ());
    engine.close();
    assert!(engine.drain(Duration::from_secs(10)).await);
    let counter: Counter = client.session.read(Counter::clone).await;
    assert_eq!(counter.count, 1001);
    assert_eq!(counter.log, ["worked 5s"]);
}

#[tokio::test(start_paused = true)]
async fn drain_cancels_what_outlives_the_grace_period() {
    let engine = lifecycle_engine();
    let mut client = Client::connect(engine.open().unwrap());
    client.send(WORK, 1);
    client.send(WORK, 100);
    advance(Duration::from_secs(2)).await;
    client.send(LONG_HANDLER, 100);
    client.send(INCREMENT, ());
    let start = tokio::time::Instant::now();
    engine.close();
    assert!(!engine.drain(Duration::from_secs(10)).await);
    assert!(start.elapsed() < Duration::from_secs(11));
    assert!(client.session.tasks().is_empty());
    let counter: Counter = client.session.read(Counter::clone).await;
    // The 1 s task finished; the 100 s one was cancelled; the long
    // handler's change rolled back and the event behind it never ran.
    assert_eq!(counter.log, ["worked 1s"]);
    assert_eq!(counter.count, 0);
    let version = client.session.version();
    advance(Duration::from_secs(200)).await;
    assert_eq!(client.session.version(), version, "nothing ran afterwards");
}

/// Issue 14: a page load that never hydrates (a crawler, a flood of
/// `open`s) must not hold a session for the whole idle TTL.
#[tokio::test(start_paused = true)]
async fn a_session_no_tab_ever_used_is_freed_within_a_minute() {
    let engine = engine_with(config());
    assert_eq!(engine.config().unused_ttl, Duration::from_secs(60));
    let unused = engine.open().unwrap().token();
    let used = engine.open().unwrap();
    drop(used.subscribe(None).unwrap());
    advance(engine.config().unused_ttl).await;
    assert_eq!(engine.expire_idle(), 1);
    assert!(!engine.holds(&unused), "never used: freed");
    assert!(
        engine.holds(&used.token()),
        "used once: kept for the idle TTL"
    );
}

/// Issue 14: a visitor who leaves a page with an endless task must not
/// leave it running, and its session saving, forever.
#[tokio::test(start_paused = true)]
async fn the_tasks_of_a_session_no_tab_watches_are_cancelled_so_it_expires() {
    let timeout = Duration::from_secs(600);
    let engine = engine_with(Config {
        idle_ttl: TTL,
        unwatched_task_timeout: timeout,
        ..config()
    });
    let mut client = Client::connect(engine.open().unwrap());
    let token = client.session.token();
    client.send(WORK, 1_000_000);
    let session = client.session.clone();
    drop(client);
    assert_eq!(session.tasks().len(), 1);

    assert_eq!(engine.expire_idle(), 0, "the first sweep starts the count");
    advance(timeout / 2).await;
    // A tab that comes back and leaves again starts the count over.
    drop(session.subscribe(None).unwrap());
    engine.expire_idle();
    advance(timeout / 2).await;
    engine.expire_idle();
    assert_eq!(session.tasks().len(), 1, "watched {:?} ago", timeout / 2);

    advance(timeout).await;
    assert_eq!(engine.expire_idle(), 0, "cancelled now; idle from now on");
    assert!(session.tasks().is_empty());
    drop(session);
    advance(TTL).await;
    assert_eq!(engine.expire_idle(), 1);
    assert!(!engine.holds(&token));
}
