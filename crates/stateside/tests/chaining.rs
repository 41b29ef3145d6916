//! Rule 2: a handler may emit further events; they run after it,
//! breadth-first, behind events already queued. The orders are those of
//! Reflex's `tests/integration/test_event_chain.py`, with its handlers
//! ported one for one (a Reflex `yield` is an emit plus a flush).

mod support;

use std::time::Duration;

use serde::{Deserialize, Serialize};
use stateside::{Action, App, Cx, Engine, HandlerId, State, Task};
use support::*;

#[derive(Clone, Default, Debug, PartialEq, Serialize, Deserialize)]
struct Chain {
    event_order: Vec<String>,
}

impl State for Chain {
    const NAME: &'static str = "chain";
}

const EVENT_NO_ARGS: HandlerId<()> = HandlerId::new("event_no_args");
const EVENT_ARG: HandlerId<String> = HandlerId::new("event_arg");
const EVENT_NESTED_1: HandlerId<()> = HandlerId::new("event_nested_1");
const EVENT_NESTED_2: HandlerId<()> = HandlerId::new("event_nested_2");
const EVENT_NESTED_3: HandlerId<()> = HandlerId::new("event_nested_3");
const CLICK_RETURN_EVENTS: HandlerId<()> = HandlerId::new("click_return_events");
const CLICK_YIELD_CHAIN: HandlerId<()> = HandlerId::new("click_yield_chain");
const CLICK_YIELD_MANY_EVENTS: HandlerId<()> = HandlerId::new("click_yield_many_events");
const CLICK_YIELD_NESTED: HandlerId<()> = HandlerId::new("click_yield_nested");
const TASK_CHAIN: HandlerId<()> = HandlerId::new("task_chain");
const TASK_STARTED_BY_TASK: HandlerId<String> = HandlerId::new("task_started_by_task");
const FAILS_AFTER_CHAINING: HandlerId<()> = HandlerId::new("fails_after_chaining");

type Out = anyhow::Result<()>;

fn push(cx: &mut Cx<Chain>, entry: impl Into<String>) {
    cx.event_order.push(entry.into());
}

/// A Reflex `yield SomeEvent`: chain it and send the changes so far.
fn yield_event<A: Serialize>(cx: &mut Cx<Chain>, handler: HandlerId<A>, args: &A) -> Out {
    cx.emit(handler, args)?;
    cx.flush();
    Ok(())
}

async fn event_no_args(mut cx: Cx<Chain>, (): ()) -> Out {
    push(&mut cx, "event_no_args");
    Ok(())
}

async fn event_arg(mut cx: Cx<Chain>, arg: String) -> Out {
    push(&mut cx, format!("event_arg:{arg}"));
    Ok(())
}

async fn event_nested_1(mut cx: Cx<Chain>, (): ()) -> Out {
    push(&mut cx, "event_nested_1");
    yield_event(&mut cx, EVENT_NESTED_2, &())?;
    yield_event(&mut cx, EVENT_ARG, &"nested_1".to_owned())
}

async fn event_nested_2(mut cx: Cx<Chain>, (): ()) -> Out {
    push(&mut cx, "event_nested_2");
    yield_event(&mut cx, EVENT_NESTED_3, &())?;
    cx.action(Action::ConsoleLog {
        message: "event_nested_2".to_owned(),
    })?;
    cx.flush();
    yield_event(&mut cx, EVENT_ARG, &"nested_2".to_owned())
}

async fn event_nested_3(mut cx: Cx<Chain>, (): ()) -> Out {
    push(&mut cx, "event_nested_3");
    yield_event(&mut cx, EVENT_NO_ARGS, &())?;
    yield_event(&mut cx, EVENT_ARG, &"nested_3".to_owned())
}

/// Reflex's `return [event_arg(7), console_log, event_arg(8), event_arg(9)]`.
async fn click_return_events(mut cx: Cx<Chain>, (): ()) -> Out {
    push(&mut cx, "click_return_events");
    cx.emit(EVENT_ARG, &"7".to_owned())?;
    cx.action(Action::ConsoleLog {
        message: "click_return_events".to_owned(),
    })?;
    cx.emit(EVENT_ARG, &"8".to_owned())?;
    cx.emit(EVENT_ARG, &"9".to_owned())?;
    Ok(())
}

async fn click_yield_chain(mut cx: Cx<Chain>, (): ()) -> Out {
    push(&mut cx, "click_yield_chain:0");
    yield_event(&mut cx, EVENT_ARG, &"10".to_owned())?;
    push(&mut cx, "click_yield_chain:1");
    cx.action(Action::ConsoleLog {
        message: "click_yield_chain".to_owned(),
    })?;
    cx.flush();
    yield_event(&mut cx, EVENT_ARG, &"11".to_owned())?;
    push(&mut cx, "click_yield_chain:2");
    yield_event(&mut cx, EVENT_ARG, &"12".to_owned())?;
    push(&mut cx, "click_yield_chain:3");
    Ok(())
}

async fn click_yield_many_events(mut cx: Cx<Chain>, (): ()) -> Out {
    push(&mut cx, "click_yield_many_events");
    for ix in 0..50 {
        yield_event(&mut cx, EVENT_ARG, &ix.to_string())?;
    }
    push(&mut cx, "click_yield_many_events_done");
    Ok(())
}

async fn click_yield_nested(mut cx: Cx<Chain>, (): ()) -> Out {
    push(&mut cx, "click_yield_nested");
    yield_event(&mut cx, EVENT_NESTED_1, &())?;
    yield_event(&mut cx, EVENT_ARG, &"yield_nested".to_owned())
}

/// A background task chaining foreground events and another task.
async fn task_chain(mut task: Task<Chain>, (): ()) -> Out {
    task.lock().await.event_order.push("task_chain".to_owned());
    task.emit(EVENT_ARG, &"from_task".to_owned())?;
    task.emit(TASK_STARTED_BY_TASK, &"child".to_owned())?;
    task.emit(EVENT_NO_ARGS, &())?;
    Ok(())
}

async fn task_started_by_task(mut task: Task<Chain>, tag: String) -> Out {
    tokio::time::sleep(Duration::from_millis(10)).await;
    task.lock().await.event_order.push(format!("task:{tag}"));
    Ok(())
}

/// Chains one event, flushes, chains another, then fails: the first was
/// published with the flush, the second goes with the rolled-back changes.
async fn fails_after_chaining(mut cx: Cx<Chain>, (): ()) -> Out {
    push(&mut cx, "fails_after_chaining");
    yield_event(&mut cx, EVENT_ARG, &"before_flush".to_owned())?;
    push(&mut cx, "rolled_back");
    cx.emit(EVENT_ARG, &"after_flush".to_owned())?;
    anyhow::bail!("failed on purpose")
}

fn chain_engine() -> Engine {
    let app = App::new()
        .on(EVENT_NO_ARGS, event_no_args)
        .on(EVENT_ARG, event_arg)
        .on(EVENT_NESTED_1, event_nested_1)
        .on(EVENT_NESTED_2, event_nested_2)
        .on(EVENT_NESTED_3, event_nested_3)
        .on(CLICK_RETURN_EVENTS, click_return_events)
        .on(CLICK_YIELD_CHAIN, click_yield_chain)
        .on(CLICK_YIELD_MANY_EVENTS, click_yield_many_events)
        .on(CLICK_YIELD_NESTED, click_yield_nested)
        .on(FAILS_AFTER_CHAINING, fails_after_chaining)
        .background(TASK_CHAIN, task_chain)
        .background(TASK_STARTED_BY_TASK, task_started_by_task);
    Engine::new(app, config())
}

/// Clicks `button` and returns the order once the session is quiet.
async fn order_after(button: HandlerId<()>) -> Vec<String> {
    let engine = chain_engine();
    let mut client = Client::connect(engine.open().unwrap());
    client.send(button, ());
    client.quiesce::<Chain>().await.event_order
}

#[tokio::test(start_paused = true)]
async fn return_events_run_in_order() {
    assert_eq!(
        order_after(CLICK_RETURN_EVENTS).await,
        [
            "click_return_events",
            "event_arg:7",
            "event_arg:8",
            "event_arg:9"
        ]
    );
}

#[tokio::test(start_paused = true)]
async fn yield_chain_runs_after_its_handler() {
    assert_eq!(
        order_after(CLICK_YIELD_CHAIN).await,
        [
            "click_yield_chain:0",
            "click_yield_chain:1",
            "click_yield_chain:2",
            "click_yield_chain:3",
            "event_arg:10",
            "event_arg:11",
            "event_arg:12",
        ]
    );
}

#[tokio::test(start_paused = true)]
async fn many_yielded_events_keep_their_order() {
    let mut expected = vec![
        "click_yield_many_events".to_owned(),
        "click_yield_many_events_done".to_owned(),
    ];
    expected.extend((0..50).map(|ix| format!("event_arg:{ix}")));
    assert_eq!(order_after(CLICK_YIELD_MANY_EVENTS).await, expected);
}

#[tokio::test(start_paused = true)]
async fn nested_chains_run_breadth_first() {
    assert_eq!(
        order_after(CLICK_YIELD_NESTED).await,
        [
            "click_yield_nested",
            "event_nested_1",
            "event_arg:yield_nested",
            "event_nested_2",
            "event_arg:nested_1",
            "event_nested_3",
            "event_arg:nested_2",
            "event_no_args",
            "event_arg:nested_3",
        ]
    );
}

#[tokio::test(start_paused = true)]
async fn chained_events_queue_behind_events_already_sent() {
    let engine = chain_engine();
    let mut client = Client::connect(engine.open().unwrap());
    client.send(CLICK_YIELD_CHAIN, ());
    client.send(EVENT_ARG, "sent_second".to_owned());
    let chain: Chain = client.quiesce().await;
    assert_eq!(
        chain.event_order,
        [
            "click_yield_chain:0",
            "click_yield_chain:1",
            "click_yield_chain:2",
            "click_yield_chain:3",
            "event_arg:sent_second",
            "event_arg:10",
            "event_arg:11",
            "event_arg:12",
        ]
    );
}

#[tokio::test(start_paused = true)]
async fn background_tasks_chain_events_and_tasks() {
    let engine = chain_engine();
    let mut client = Client::connect(engine.open().unwrap());
    client.send(TASK_CHAIN, ());
    let chain: Chain = client.quiesce().await;
    assert_eq!(
        chain.event_order,
        [
            "task_chain",
            "event_arg:from_task",
            "event_no_args",
            "task:child"
        ]
    );
}

#[tokio::test(start_paused = true)]
async fn a_failed_handler_keeps_only_what_it_chained_before_its_last_flush() {
    let engine = chain_engine();
    let mut client = Client::connect(engine.open().unwrap());
    client.send(FAILS_AFTER_CHAINING, ());
    let chain: Chain = client.quiesce().await;
    assert_eq!(
        chain.event_order,
        ["fails_after_chaining", "event_arg:before_flush"]
    );
    assert_eq!(client.notices().len(), 1);
}
