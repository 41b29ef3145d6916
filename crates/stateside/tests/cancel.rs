//! Rule 7: every task has an id; tasks can be listed, cancelled, and
//! superseded by a new start. A cancelled task stops at its next await and
//! sends nothing after the cancel.

mod support;

use std::{
    sync::atomic::{AtomicU64, Ordering},
    time::Duration,
};

use stateside::{Cx, Engine, HandlerId, Task, TaskInfo, transport::ServerMessage};
use support::*;

const SPIN: HandlerId<()> = HandlerId::new("spin");
const TICK: HandlerId<String> = HandlerId::new("tick");
const RESTARTABLE: HandlerId<u32> = HandlerId::new("restartable");
const KILL_SPINNERS: HandlerId<()> = HandlerId::new("kill_spinners");
const COUNT_LOOPS: HandlerId<()> = HandlerId::new("count_loops");
const HOLD: HandlerId<()> = HandlerId::new("hold");

/// Increments as fast as the lock allows, forever.
async fn spin(mut task: Task<Counter>, (): ()) -> anyhow::Result<()> {
    loop {
        task.lock().await.count += 1;
        tokio::task::yield_now().await;
    }
}

/// Records `tag` every 100 ms, forever.
async fn tick(mut task: Task<Counter>, tag: String) -> anyhow::Result<()> {
    loop {
        tokio::time::sleep(Duration::from_millis(100)).await;
        task.lock().await.log.push(tag.clone());
    }
}

/// Records `instance:n` every 100 ms, forever; a new start with the same
/// `instance` replaces the running one.
async fn restartable(mut task: Task<Counter>, instance: u32) -> anyhow::Result<()> {
    let id = task.id();
    loop {
        tokio::time::sleep(Duration::from_millis(100)).await;
        task.lock().await.log.push(format!("{instance}:{id}"));
    }
}

/// The lorem-stream "kill" button: cancels every running `spin`.
async fn kill_spinners(mut cx: Cx<Counter>, (): ()) -> anyhow::Result<()> {
    for task in cx.tasks() {
        if task.handler == SPIN.name() {
            assert!(cx.cancel(task.id));
            cx.log.push(format!("killed {}", task.id));
        }
    }
    Ok(())
}

static LOOPS: AtomicU64 = AtomicU64::new(0);

/// Counts its loops outside the lock, to show where it stops.
async fn count_loops(_task: Task<Counter>, (): ()) -> anyhow::Result<()> {
    loop {
        LOOPS.fetch_add(1, Ordering::SeqCst);
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Changes the state, then waits holding the guard (which it should not).
async fn hold(mut task: Task<Counter>, (): ()) -> anyhow::Result<()> {
    let mut counter = task.lock().await;
    counter.count += 1;
    std::future::pending::<()>().await;
    Ok(())
}

fn cancel_engine() -> Engine {
    let app = app()
        .background(SPIN, spin)
        .background(TICK, tick)
        .background_superseding(RESTARTABLE, restartable)
        .on(KILL_SPINNERS, kill_spinners)
        .background(COUNT_LOOPS, count_loops)
        .background(HOLD, hold);
    Engine::new(app, config())
}

fn handlers(tasks: &[TaskInfo]) -> Vec<&'static str> {
    tasks.iter().map(|task| task.handler).collect()
}

#[tokio::test(start_paused = true)]
async fn tasks_have_ids_and_can_be_listed_and_cancelled() {
    let engine = cancel_engine();
    let mut client = Client::connect(engine.open().unwrap());
    client.send(TICK, "a".to_owned());
    client.send(TICK, "b".to_owned());
    client.send(TICK, "c".to_owned());
    let tasks = client.session.tasks();
    assert_eq!(handlers(&tasks), ["tick", "tick", "tick"]);
    let ids: Vec<_> = tasks.iter().map(|task| task.id).collect();
    assert!(ids.windows(2).all(|pair| pair[0] < pair[1]), "{ids:?}");

    client.until(|c: &Counter| c.log.len() >= 6).await;
    assert!(client.session.cancel(ids[0]));
    assert!(!client.session.cancel(ids[0]), "already gone");
    assert!(client.session.cancel(ids[2]));
    assert_eq!(handlers(&client.session.tasks()), ["tick"]);

    let before: Counter = client.session.read(Counter::clone).await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let after: Counter = client.session.read(Counter::clone).await;
    let new: Vec<_> = after.log[before.log.len()..].to_vec();
    assert!(
        !new.is_empty() && new.iter().all(|tag| tag == "b"),
        "{new:?}"
    );
    assert!(client.session.cancel(ids[1]));
    client.quiesce::<Counter>().await;
}

#[tokio::test(start_paused = true)]
async fn a_handler_can_cancel_tasks() {
    let engine = cancel_engine();
    let mut client = Client::connect(engine.open().unwrap());
    client.send(SPIN, ());
    client.send(SPIN, ());
    client.send(TICK, "kept".to_owned());
    client.until(|c: &Counter| c.count >= 100).await;
    client.send(KILL_SPINNERS, ());
    let counter: Counter = client.settled().await;
    assert_eq!(
        counter
            .log
            .iter()
            .filter(|l| l.starts_with("killed"))
            .count(),
        2
    );
    assert_eq!(handlers(&client.session.tasks()), ["tick"]);
}

#[tokio::test(start_paused = true)]
async fn a_new_start_supersedes_the_running_instance() {
    let engine = cancel_engine();
    let mut client = Client::connect(engine.open().unwrap());
    client.send(RESTARTABLE, 1);
    client.send(RESTARTABLE, 2);
    client.until(|c: &Counter| c.log.len() >= 2).await;
    // Same arguments: the running instance of 1 is replaced.
    client.send(RESTARTABLE, 1);
    let tasks = client.session.tasks();
    assert_eq!(handlers(&tasks), ["restartable", "restartable"]);
    let (old, new) = (tasks[0].id.0 - 1, tasks[1].id.0);
    tokio::time::sleep(Duration::from_secs(1)).await;
    let counter: Counter = client.session.read(Counter::clone).await;
    let from = |instance: u32, id: u64| format!("{instance}:{id}");
    let first_new = counter
        .log
        .iter()
        .position(|entry| *entry == from(1, new))
        .expect("the new instance ran");
    assert!(
        !counter.log[first_new..].contains(&from(1, old)),
        "the superseded instance stopped: {:?}",
        counter.log
    );
    assert!(counter.log[first_new..].contains(&from(2, tasks[0].id.0)));
    for task in tasks {
        client.session.cancel(task.id);
    }
}

#[tokio::test(start_paused = true)]
async fn a_cancelled_task_stops_at_its_next_await() {
    let engine = cancel_engine();
    let mut client = Client::connect(engine.open().unwrap());
    client.send(COUNT_LOOPS, ());
    tokio::time::sleep(Duration::from_millis(55)).await;
    let id = client.session.tasks()[0].id;
    assert!(client.session.cancel(id));
    let loops = LOOPS.load(Ordering::SeqCst);
    assert!(loops >= 5, "{loops}");
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(LOOPS.load(Ordering::SeqCst), loops);
    client.quiesce::<Counter>().await;
}

/// The cancel lands while the task is mid-loop on another thread, perhaps
/// inside its lock section: after `cancel` returns, no versioned update may
/// appear, and the client's copy must still equal the server's.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nothing_is_published_after_cancel_returns() {
    let engine = cancel_engine();
    let mut client = Client::connect(engine.open().unwrap());
    for round in 1..=20 {
        client.send(SPIN, ());
        client.until(|c: &Counter| c.count >= round * 50).await;
        let id = client.session.tasks()[0].id;
        assert!(client.session.cancel(id));
        let version = client.session.version();
        tokio::time::sleep(Duration::from_millis(5)).await;
        assert_eq!(client.session.version(), version, "round {round}");
        client.catch_up();
        let late: Vec<u64> = client
            .received
            .iter()
            .filter_map(|message| match &**message {
                ServerMessage::Update(update) if !update.ops.is_empty() => Some(update.version),
                _ => None,
            })
            .filter(|&v| v > version)
            .collect();
        assert!(late.is_empty(), "round {round}: {late:?}");
        let counter: Counter = client.quiesce().await;
        assert_eq!(counter, client.document().state::<Counter>().unwrap());
    }
}

/// The task is dropped after `cancel` returns, and its guard with it: that
/// release must roll back, not publish.
#[tokio::test(start_paused = true)]
async fn a_task_cancelled_inside_its_lock_section_publishes_nothing_of_it() {
    let engine = cancel_engine();
    let mut client = Client::connect(engine.open().unwrap());
    client.send(HOLD, ());
    client.send(INCREMENT, ());
    for _ in 0..10 {
        tokio::task::yield_now().await;
    }
    let id = client.session.tasks()[0].id;
    assert!(client.session.cancel(id));
    let counter: Counter = client.quiesce().await;
    assert_eq!(counter.count, 1, "only the increment");
    assert_eq!(client.versions(), [1]);
}
