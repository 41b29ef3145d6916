//! Rule 8: a handler that returns `Err` or panics leaves the session alive.
//! Its changes roll back to its last flush (for a task, to its last guard
//! release or flush), the client gets a notice naming the handler, the log
//! names it too, and nothing else in the session is lost.

mod support;

use std::time::Duration;

use stateside::{Action, Cx, Engine, HandlerId, Task, transport::ServerMessage};
use support::*;

const FAIL: HandlerId<bool> = HandlerId::new("fail_in_foreground");
const FAIL_IN_TASK: HandlerId<bool> = HandlerId::new("fail_in_task");
const ERR_INSIDE_GUARD: HandlerId<()> = HandlerId::new("err_inside_guard");
const UPDATE_OR_NOT: HandlerId<()> = HandlerId::new("update_or_not");

fn failure(panic: bool) -> anyhow::Result<()> {
    if panic {
        panic!("boom");
    }
    anyhow::bail!("no luck")
}

/// +1, flush, then +10 with a toast, and fail (by `Err`, or by a panic).
async fn fail_in_foreground(mut cx: Cx<Counter>, panic: bool) -> anyhow::Result<()> {
    cx.count += 1;
    cx.flush();
    cx.count += 10;
    cx.action(Action::toast("never sent"))?;
    failure(panic)
}

/// +1 in one section; then +10, flush, +100 in a second, and fail inside
/// it (a panic) or after it (an `Err`).
async fn fail_in_task(mut task: Task<Counter>, panic: bool) -> anyhow::Result<()> {
    task.lock().await.count += 1;
    tokio::time::sleep(Duration::from_millis(10)).await;
    let mut counter = task.lock().await;
    counter.count += 10;
    counter.flush();
    counter.count += 100;
    if panic {
        failure(true)
    } else {
        drop(counter);
        tokio::time::sleep(Duration::from_millis(10)).await;
        failure(false)
    }
}

/// `?` with a guard alive: the guard is released, and so published, on the
/// way out; the task's `Err` comes after.
async fn err_inside_guard(mut task: Task<Counter>, (): ()) -> anyhow::Result<()> {
    let mut counter = task.lock().await;
    counter.count += 1;
    failure(false)?;
    Ok(())
}

/// An all-or-nothing section that fails, one that succeeds, and a guard
/// rolled back by hand.
async fn update_or_not(mut task: Task<Counter>, (): ()) -> anyhow::Result<()> {
    let failed: Result<(), &str> = task
        .update(|counter| {
            counter.count += 100;
            counter.action(Action::toast("never sent")).unwrap();
            Err("not this time")
        })
        .await;
    assert_eq!(failed, Err("not this time"));
    let value = task
        .update(|counter| {
            counter.count += 1;
            Ok::<_, anyhow::Error>(counter.count)
        })
        .await?;
    assert_eq!(value, 1);
    let mut counter = task.lock().await;
    counter.count += 1000;
    counter.rollback();
    Ok(())
}

fn error_engine() -> Engine {
    let app = app()
        .on(FAIL, fail_in_foreground)
        .background(FAIL_IN_TASK, fail_in_task)
        .background(ERR_INSIDE_GUARD, err_inside_guard)
        .background(UPDATE_OR_NOT, update_or_not);
    Engine::new(app, config())
}

fn toasts(client: &Client) -> usize {
    client
        .received
        .iter()
        .filter(|message| matches!(&***message, ServerMessage::Update(u) if !u.actions.is_empty()))
        .count()
}

async fn foreground_failure(panic: bool) {
    let (logs, _guard) = capture_logs();
    let engine = error_engine();
    let mut client = Client::connect(engine.open().unwrap());
    client.send(FAIL, panic);
    client.send(INCREMENT, ());
    let counter: Counter = client.quiesce().await;
    // Rolled back to the flush; the next event ran on that.
    assert_eq!(counter.count, 2);
    let notices = client.notices();
    assert_eq!(notices.len(), 1);
    assert_eq!(notices[0].handler, "fail_in_foreground");
    assert_eq!(toasts(&client), 0, "the failed part's toast is dropped");
    assert_eq!(client.document().acked(), 2);
    // The client gets a generic message with an error id; the log has the
    // error itself under the same id.
    let id = notices[0].message.strip_prefix("error ").expect("generic");
    let errors = logs.lines_with("handler failed");
    assert_eq!(errors.len(), 1, "{}", logs.text());
    assert!(errors[0].contains("fail_in_foreground"));
    assert!(
        errors[0].contains(&format!("error_id={id}")),
        "{}",
        errors[0]
    );
    let expected = if panic { "panicked: boom" } else { "no luck" };
    assert!(errors[0].contains(expected), "{}", errors[0]);
    assert!(!notices[0].message.contains(expected));
}

#[tokio::test(start_paused = true)]
async fn a_foreground_err_rolls_back_to_the_last_flush() {
    foreground_failure(false).await;
}

#[tokio::test(start_paused = true)]
async fn a_foreground_panic_rolls_back_to_the_last_flush() {
    foreground_failure(true).await;
}

async fn task_failure(panic: bool) -> Counter {
    let (logs, _guard) = capture_logs();
    let engine = error_engine();
    let mut client = Client::connect(engine.open().unwrap());
    // Another task works through the failure, and must lose nothing.
    client.send(LOCKED_INCREMENTS, 300);
    client.send(FAIL_IN_TASK, panic);
    client.send(INCREMENT, ());
    let counter: Counter = client.quiesce().await;
    let notices = client.notices();
    assert_eq!(notices.len(), 1);
    assert_eq!(notices[0].handler, "fail_in_task");
    let errors = logs.lines_with("handler failed");
    assert_eq!(errors.len(), 1, "{}", logs.text());
    assert!(errors[0].contains("fail_in_task"));
    counter
}

#[tokio::test(start_paused = true)]
async fn a_task_panic_rolls_back_to_its_last_flush() {
    // 300 + 1 + 1 (the first section) + 10 (flushed); the +100 is undone.
    assert_eq!(task_failure(true).await.count, 312);
}

#[tokio::test(start_paused = true)]
async fn a_task_err_keeps_what_its_released_guards_published() {
    // Both sections were released before the `Err`.
    assert_eq!(task_failure(false).await.count, 412);
}

#[tokio::test(start_paused = true)]
async fn an_err_from_inside_a_guard_publishes_the_section() {
    let engine = error_engine();
    let mut client = Client::connect(engine.open().unwrap());
    client.send(ERR_INSIDE_GUARD, ());
    let counter: Counter = client.quiesce().await;
    assert_eq!(
        counter.count, 1,
        "documented: the guard publishes on release"
    );
    assert_eq!(client.notices().len(), 1);
}

#[tokio::test(start_paused = true)]
async fn update_and_rollback_make_sections_all_or_nothing() {
    let engine = error_engine();
    let mut client = Client::connect(engine.open().unwrap());
    client.send(UPDATE_OR_NOT, ());
    let counter: Counter = client.quiesce().await;
    assert_eq!(counter.count, 1);
    assert!(client.notices().is_empty());
    assert_eq!(toasts(&client), 0);
    assert_eq!(client.versions().len(), 1, "one section published");
}
