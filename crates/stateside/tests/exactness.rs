//! Rule 6: concurrent tasks and foreground events never lose an update.
//! Reflex's `tests/integration/test_background_task.py`, ported handler for
//! handler and run over the engine API: its 620, and its 1000 fast yields.

mod support;

use std::time::Duration;

use serde::{Deserialize, Serialize};
use stateside::{App, Cx, Engine, HandlerId, State, Task};
use support::Client;

#[derive(Clone, Default, Debug, PartialEq, Serialize, Deserialize)]
struct Counter {
    counter: i64,
    task_id: i64,
    iterations: u32,
}

impl State for Counter {
    const NAME: &'static str = "state";
}

type Out = anyhow::Result<()>;

const SET_ITERATIONS: HandlerId<u32> = HandlerId::new("set_iterations");
const HANDLE_EVENT: HandlerId<()> = HandlerId::new("handle_event");
const HANDLE_EVENT_YIELD_ONLY: HandlerId<()> = HandlerId::new("handle_event_yield_only");
const FAST_YIELDING: HandlerId<()> = HandlerId::new("fast_yielding");
const INCREMENT: HandlerId<()> = HandlerId::new("increment");
const INCREMENT_ARBITRARY: HandlerId<i64> = HandlerId::new("increment_arbitrary");
const BLOCKING_PAUSE: HandlerId<()> = HandlerId::new("blocking_pause");
const NON_BLOCKING_PAUSE: HandlerId<()> = HandlerId::new("non_blocking_pause");
const HANDLE_RACY_EVENT: HandlerId<()> = HandlerId::new("handle_racy_event");

fn pause() -> tokio::time::Sleep {
    tokio::time::sleep(Duration::from_millis(5))
}

async fn set_iterations(mut cx: Cx<Counter>, value: u32) -> Out {
    cx.iterations = value;
    Ok(())
}

/// Reads the iterations and counts the task, under the lock.
async fn start(task: &mut Task<Counter>) -> u32 {
    let mut state = task.lock().await;
    state.task_id += 1;
    state.iterations
}

async fn handle_event(mut task: Task<Counter>, (): ()) -> Out {
    for _ in 0..start(&mut task).await {
        task.lock().await.counter += 1;
        pause().await;
    }
    Ok(())
}

async fn handle_event_yield_only(mut task: Task<Counter>, (): ()) -> Out {
    for ix in 0..start(&mut task).await {
        if ix % 2 == 0 {
            task.emit(INCREMENT_ARBITRARY, &1)?;
        } else {
            task.emit(INCREMENT, &())?;
        }
        pause().await;
    }
    Ok(())
}

async fn fast_yielding(task: Task<Counter>, (): ()) -> Out {
    for _ in 0..1000 {
        task.emit(INCREMENT, &())?;
    }
    Ok(())
}

async fn increment(mut cx: Cx<Counter>, (): ()) -> Out {
    cx.counter += 1;
    Ok(())
}

async fn increment_arbitrary(mut task: Task<Counter>, amount: i64) -> Out {
    task.lock().await.counter += amount;
    Ok(())
}

async fn blocking_pause(_cx: Cx<Counter>, (): ()) -> Out {
    tokio::time::sleep(Duration::from_millis(20)).await;
    Ok(())
}

async fn non_blocking_pause(_task: Task<Counter>, (): ()) -> Out {
    tokio::time::sleep(Duration::from_millis(20)).await;
    Ok(())
}

async fn racy_task(mut task: Task<Counter>) -> Out {
    for _ in 0..start(&mut task).await {
        task.lock().await.counter += 1;
        pause().await;
    }
    Ok(())
}

async fn handle_racy_event(task: Task<Counter>, (): ()) -> Out {
    futures::try_join!(
        racy_task(task.clone()),
        racy_task(task.clone()),
        racy_task(task.clone()),
        racy_task(task),
    )?;
    Ok(())
}

fn reflex_engine() -> Engine {
    let app = App::new()
        .on(SET_ITERATIONS, set_iterations)
        .on(INCREMENT, increment)
        .on(BLOCKING_PAUSE, blocking_pause)
        .background(HANDLE_EVENT, handle_event)
        .background(HANDLE_EVENT_YIELD_ONLY, handle_event_yield_only)
        .background(FAST_YIELDING, fast_yielding)
        .background(INCREMENT_ARBITRARY, increment_arbitrary)
        .background(NON_BLOCKING_PAUSE, non_blocking_pause)
        .background(HANDLE_RACY_EVENT, handle_racy_event);
    Engine::new(app, support::config())
}

/// Reflex's `test_background_task`: the same clicks, in the same order.
async fn background_task_scenario() {
    let engine = reflex_engine();
    let mut client = Client::connect(engine.open().unwrap());
    client.send(SET_ITERATIONS, 50);
    client.settled::<Counter>().await;

    client.send(HANDLE_EVENT, ());
    client.send(BLOCKING_PAUSE, ());
    client.send(HANDLE_EVENT, ());
    for _ in 0..10 {
        client.send(INCREMENT, ());
    }
    client.send(BLOCKING_PAUSE, ());
    client.send(HANDLE_EVENT, ());
    client.send(HANDLE_EVENT, ());
    client.send(HANDLE_EVENT_YIELD_ONLY, ());
    client.send(HANDLE_RACY_EVENT, ());
    client.send(NON_BLOCKING_PAUSE, ());
    client.send(HANDLE_EVENT_YIELD_ONLY, ());
    client.send(BLOCKING_PAUSE, ());
    client.send(HANDLE_EVENT_YIELD_ONLY, ());
    for _ in 0..10 {
        client.send(INCREMENT, ());
    }
    client.send(HANDLE_EVENT_YIELD_ONLY, ());
    client.send(BLOCKING_PAUSE, ());

    let state: Counter = client.quiesce().await;
    assert_eq!(state.counter, 620);
    // 4 delayed + 4 yielding + 4 racy sub-tasks counted themselves in.
    assert_eq!(state.task_id, 12);
    assert!(client.session.tasks().is_empty());
    assert!(client.notices().is_empty());
}

#[tokio::test(start_paused = true)]
async fn background_task_gives_exactly_620() {
    background_task_scenario().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn background_task_gives_exactly_620_under_real_threads() {
    background_task_scenario().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fast_yielding_gives_exactly_1000() {
    let engine = reflex_engine();
    let mut client = Client::connect(engine.open().unwrap());
    client.send(FAST_YIELDING, ());
    let state: Counter = client.quiesce().await;
    assert_eq!(state.counter, 1000);
}
