//! Rule 4: background tasks start at once. Starting one neither waits for
//! the foreground queue nor blocks it.

mod support;

use std::{
    sync::atomic::{AtomicBool, Ordering},
    time::Duration,
};

use stateside::{Engine, HandlerId, Task};
use support::*;
use tokio::time::Instant;

const TEN_SECONDS: HandlerId<()> = HandlerId::new("ten_seconds");
const MARK_STARTED: HandlerId<()> = HandlerId::new("mark_started");

static STARTED: AtomicBool = AtomicBool::new(false);

async fn ten_seconds(mut task: Task<Counter>, (): ()) -> anyhow::Result<()> {
    tokio::time::sleep(Duration::from_secs(10)).await;
    task.lock().await.log.push("task done".to_owned());
    Ok(())
}

async fn mark_started(_task: Task<Counter>, (): ()) -> anyhow::Result<()> {
    STARTED.store(true, Ordering::SeqCst);
    Ok(())
}

fn background_engine() -> Engine {
    let app = app()
        .background(TEN_SECONDS, ten_seconds)
        .background(MARK_STARTED, mark_started);
    Engine::new(app, config())
}

#[tokio::test(start_paused = true)]
async fn a_foreground_event_right_after_a_long_task_does_not_wait() {
    let engine = background_engine();
    let mut client = Client::connect(engine.open().unwrap());
    let start = Instant::now();
    client.send(TEN_SECONDS, ());
    client.send(RECORD, "foreground".to_owned());
    let counter: Counter = client.until(|c: &Counter| !c.log.is_empty()).await;
    assert_eq!(counter.log, ["foreground"]);
    assert!(start.elapsed() < Duration::from_millis(1));
    assert_eq!(client.session.tasks().len(), 1);
    let counter: Counter = client.quiesce().await;
    assert_eq!(counter.log, ["foreground", "task done"]);
    assert!(start.elapsed() >= Duration::from_secs(10));
}

#[tokio::test(start_paused = true)]
async fn a_task_starts_while_the_queue_is_busy() {
    let engine = background_engine();
    let mut client = Client::connect(engine.open().unwrap());
    client.send(SLOW_RECORD, ("slow".to_owned(), 10_000));
    client.send(MARK_STARTED, ());
    // Give the task a turn to run; no virtual time passes.
    for _ in 0..10 {
        tokio::task::yield_now().await;
    }
    assert!(STARTED.load(Ordering::SeqCst));
    let counter: Counter = client.settled().await;
    assert_eq!(counter.log, ["start:slow", "end:slow"]);
}
