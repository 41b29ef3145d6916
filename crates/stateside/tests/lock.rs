//! Rule 5: the session lock. It is fair (FIFO between foreground events and
//! task lock requests), a nested lock is an error and never a deadlock,
//! sub-futures of one task that share its handle serialise, and a lock held
//! too long is logged with the handler's name.

mod support;

use std::time::Duration;

use serde::{Deserialize, Serialize};
use stateside::{App, Config, Cx, Engine, HandlerId, State, Task};
use support::*;

/// The lock's grant order, kept as counters so that ten tasks locking in a
/// tight loop do not grow the state.
#[derive(Clone, Default, Debug, PartialEq, Serialize, Deserialize)]
struct Grants {
    /// Task grants since the last foreground event.
    since_foreground: u32,
    /// The most task grants seen between two consecutive foreground events.
    max_between: u32,
    task_grants: u32,
    foreground: u32,
    stop: bool,
}

impl State for Grants {
    const NAME: &'static str = "grants";
}

const SPIN: HandlerId<()> = HandlerId::new("spin");
const FOREGROUND: HandlerId<()> = HandlerId::new("foreground");
const STOP: HandlerId<()> = HandlerId::new("stop");

/// Locks in a tight loop, with no await between release and the next
/// request, until told to stop.
async fn spin(mut task: Task<Grants>, (): ()) -> anyhow::Result<()> {
    loop {
        let mut grants = task.lock().await;
        if grants.stop {
            return Ok(());
        }
        grants.since_foreground += 1;
        grants.task_grants += 1;
    }
}

async fn foreground(mut cx: Cx<Grants>, (): ()) -> anyhow::Result<()> {
    // The first one's count includes the turns taken before it was sent.
    if cx.foreground > 0 {
        cx.max_between = cx.max_between.max(cx.since_foreground);
    }
    cx.since_foreground = 0;
    cx.foreground += 1;
    Ok(())
}

async fn stop(mut cx: Cx<Grants>, (): ()) -> anyhow::Result<()> {
    cx.stop = true;
    Ok(())
}

const TASKS: u32 = 10;

async fn fairness() -> Grants {
    let app = App::new()
        .background(SPIN, spin)
        .on(FOREGROUND, foreground)
        .on(STOP, stop);
    let engine = Engine::new(app, config());
    let mut client = Client::connect(engine.open().unwrap());
    for _ in 0..TASKS {
        client.send(SPIN, ());
    }
    client.until(|g: &Grants| g.task_grants >= 100).await;
    for _ in 0..20 {
        client.send(FOREGROUND, ());
    }
    client.send(STOP, ());
    client.quiesce().await
}

#[tokio::test]
async fn foreground_events_wait_only_for_those_queued_before_them() {
    let grants = fairness().await;
    assert_eq!(grants.foreground, 20);
    // The tasks were contending, and yet each foreground event waited for
    // at most one turn of each task: the ones already queued.
    assert!(grants.max_between > 0, "the tasks did contend: {grants:?}");
    assert!(grants.max_between <= TASKS, "{grants:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fairness_holds_under_real_threads() {
    let grants = fairness().await;
    assert_eq!(grants.foreground, 20);
    assert!(grants.max_between <= TASKS, "{grants:?}");
}

const NESTED: HandlerId<()> = HandlerId::new("nested_lock");

/// Reflex's `nested_async_with_self`, where the inner lock goes through a
/// clone of the handle (through the same handle it would not compile).
async fn nested_lock(mut task: Task<Counter>, (): ()) -> anyhow::Result<()> {
    let mut clone = task.clone();
    let mut counter = task.lock().await;
    counter.count += 1;
    let mut inner = clone.lock().await;
    inner.count += 1;
    Ok(())
}

#[tokio::test(start_paused = true)]
async fn a_nested_lock_through_a_clone_is_an_error_not_a_deadlock() {
    let (logs, _guard) = capture_logs();
    let engine = Engine::new(app().background(NESTED, nested_lock), config());
    let mut client = Client::connect(engine.open().unwrap());
    client.send(NESTED, ());
    let counter: Counter = client.quiesce().await;
    // The panic rolled the section back; the session goes on.
    assert_eq!(counter.count, 0);
    let notices = client.notices();
    assert_eq!(notices.len(), 1);
    assert_eq!(notices[0].handler, "nested_lock");
    // The tab gets an error id; the log says what went wrong.
    let errors = logs.lines_with("already holds it");
    assert_eq!(errors.len(), 1, "{}", logs.text());
    assert!(errors[0].contains(&notices[0].message.replace("error ", "error_id=")));
    client.send(INCREMENT, ());
    let counter: Counter = client.quiesce().await;
    assert_eq!(counter.count, 1);
}

const RACY: HandlerId<u32> = HandlerId::new("racy");

/// Reflex's `racy_task`, four at once in one task, sharing its handle.
async fn racy_task(mut task: Task<Counter>, iterations: u32) -> anyhow::Result<()> {
    task.lock().await.log.push("racy".to_owned());
    for _ in 0..iterations {
        task.lock().await.count += 1;
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    Ok(())
}

async fn racy(task: Task<Counter>, iterations: u32) -> anyhow::Result<()> {
    futures::try_join!(
        racy_task(task.clone(), iterations),
        racy_task(task.clone(), iterations),
        racy_task(task.clone(), iterations),
        racy_task(task, iterations),
    )?;
    Ok(())
}

#[tokio::test(start_paused = true)]
async fn sub_futures_sharing_a_handle_serialise() {
    let engine = Engine::new(app().background(RACY, racy), config());
    let mut client = Client::connect(engine.open().unwrap());
    client.send(RACY, 50);
    for _ in 0..10 {
        client.send(INCREMENT, ());
    }
    let counter: Counter = client.quiesce().await;
    assert_eq!(counter.count, 210);
    assert_eq!(counter.log.len(), 4);
    assert!(client.notices().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sub_futures_serialise_under_real_threads() {
    let engine = Engine::new(app().background(RACY, racy), config());
    let mut client = Client::connect(engine.open().unwrap());
    for _ in 0..3 {
        client.send(RACY, 30);
        client.send(LOCKED_INCREMENTS, 30);
    }
    let counter: Counter = client.quiesce().await;
    assert_eq!(counter.count, 3 * 4 * 30 + 3 * 30);
}

const HOLD_FOREGROUND: HandlerId<()> = HandlerId::new("hold_foreground");
const HOLD_IN_TASK: HandlerId<()> = HandlerId::new("hold_in_task");

async fn hold_foreground(mut cx: Cx<Counter>, (): ()) -> anyhow::Result<()> {
    cx.count += 1;
    tokio::time::sleep(Duration::from_secs(2)).await;
    Ok(())
}

async fn hold_in_task(mut task: Task<Counter>, (): ()) -> anyhow::Result<()> {
    let mut counter = task.lock().await;
    counter.count += 1;
    tokio::time::sleep(Duration::from_secs(2)).await;
    Ok(())
}

#[tokio::test(start_paused = true)]
async fn holding_the_lock_too_long_logs_the_handler() {
    let (logs, _guard) = capture_logs();
    let app = app()
        .on(HOLD_FOREGROUND, hold_foreground)
        .background(HOLD_IN_TASK, hold_in_task);
    let config = Config {
        lock_hold_warning: Duration::from_secs(1),
        ..config()
    };
    let engine = Engine::new(app, config);
    let mut client = Client::connect(engine.open().unwrap());
    client.send(INCREMENT, ());
    client.send(LOCKED_INCREMENTS, 5);
    client.quiesce::<Counter>().await;
    assert!(
        logs.lines_with("held too long").is_empty(),
        "{}",
        logs.text()
    );

    client.send(HOLD_FOREGROUND, ());
    client.send(HOLD_IN_TASK, ());
    let counter: Counter = client.quiesce().await;
    assert_eq!(counter.count, 8);
    let warnings = logs.lines_with("held too long");
    assert_eq!(warnings.len(), 2, "{}", logs.text());
    assert!(warnings.iter().any(|line| line.contains("hold_foreground")));
    assert!(warnings.iter().any(|line| line.contains("hold_in_task")));
}
