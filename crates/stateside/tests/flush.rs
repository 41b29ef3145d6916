//! Rule 3: a handler can send intermediate updates. A foreground flush
//! sends its patch at once, before the handler ends; a flush inside a task's
//! guard (Reflex's `yield` inside `async with self`) publishes without
//! releasing the lock.

mod support;

use std::time::Duration;

use serde::{Deserialize, Serialize};
use stateside::{App, Cx, Engine, HandlerId, State, Task, transport::ServerMessage};
use support::*;
use tokio::time::Instant;

#[derive(Clone, Default, Debug, PartialEq, Serialize, Deserialize)]
struct Loader {
    loading: bool,
    items: Vec<u32>,
}

impl State for Loader {
    const NAME: &'static str = "loader";
}

const LOAD: HandlerId<()> = HandlerId::new("load");
const YIELD_IN_GUARD: HandlerId<()> = HandlerId::new("yield_in_guard");

/// Shows a spinner, then does ten seconds of slow work.
async fn load(mut cx: Cx<Loader>, (): ()) -> anyhow::Result<()> {
    cx.loading = true;
    cx.flush();
    tokio::time::sleep(Duration::from_secs(10)).await;
    cx.items = vec![1, 2, 3];
    cx.loading = false;
    Ok(())
}

/// Reflex's `yield_in_async_with_self`: +1, yield, +1 in one section.
async fn yield_in_guard(mut task: Task<Counter>, (): ()) -> anyhow::Result<()> {
    let mut counter = task.lock().await;
    counter.count += 1;
    counter.flush();
    counter.count += 1;
    Ok(())
}

fn flush_engine() -> Engine {
    let app = App::new()
        .on(LOAD, load)
        .background(YIELD_IN_GUARD, yield_in_guard);
    Engine::new(app, config())
}

#[tokio::test(start_paused = true)]
async fn a_foreground_flush_is_sent_before_the_handler_ends() {
    let engine = flush_engine();
    let mut client = Client::connect(engine.open().unwrap());
    let start = Instant::now();
    client.send(LOAD, ());
    let loader: Loader = client.until(|l: &Loader| l.loading).await;
    // The spinner arrived with no virtual time gone by, and before the
    // event was acknowledged (which happens when its handler ends).
    assert!(loader.items.is_empty());
    assert!(start.elapsed() < Duration::from_millis(1));
    assert_eq!(client.document().acked(), 0);
    let loader: Loader = client.settled().await;
    assert_eq!(
        loader,
        Loader {
            loading: false,
            items: vec![1, 2, 3]
        }
    );
    assert!(start.elapsed() >= Duration::from_secs(10));
    assert_eq!(client.versions(), [1, 2]);
}

#[tokio::test(start_paused = true)]
async fn a_flush_inside_a_guard_sends_two_patches() {
    let engine = flush_engine();
    let mut client = Client::connect(engine.open().unwrap());
    client.send(YIELD_IN_GUARD, ());
    let counter: Counter = client.quiesce().await;
    assert_eq!(counter.count, 2);
    let counts: Vec<i64> = client
        .received
        .iter()
        .filter_map(|message| match &**message {
            ServerMessage::Update(update) if !update.ops.is_empty() => Some(update.version),
            _ => None,
        })
        .map(|version| {
            // Replay the stream up to each version to see what it showed.
            let mut document = stateside_wire::Document::default();
            for message in client
                .received
                .iter()
                .take_while(|m| m.version() <= version)
            {
                document.apply(message).unwrap();
            }
            document.state::<Counter>().unwrap().count
        })
        .collect();
    assert_eq!(counts, [1, 2]);
}
