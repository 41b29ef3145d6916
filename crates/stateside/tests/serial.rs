//! Rule 1: one session's foreground events run one at a time, in the order
//! the client sent them; different sessions run in parallel.

mod support;

use std::time::Duration;

use support::*;
use tokio::time::Instant;

#[tokio::test(start_paused = true)]
async fn events_run_one_at_a_time_in_order() {
    let engine = engine();
    let mut client = Client::connect(engine.open().unwrap());
    // A slow event first: the fast ones must wait for it, and no two may
    // overlap (each records its start and its end).
    client.send(SLOW_RECORD, ("a".to_owned(), 200));
    client.send(RECORD, "b".to_owned());
    client.send(SLOW_RECORD, ("c".to_owned(), 50));
    client.send(RECORD, "d".to_owned());
    let counter: Counter = client.settled().await;
    assert_eq!(
        counter.log,
        ["start:a", "end:a", "b", "start:c", "end:c", "d"]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn order_holds_under_real_threads() {
    let engine = engine();
    let mut client = Client::connect(engine.open().unwrap());
    let tags: Vec<String> = (0..200).map(|i| i.to_string()).collect();
    for tag in &tags {
        client.send(RECORD, tag.clone());
    }
    let counter: Counter = client.settled().await;
    assert_eq!(counter.log, tags);
}

#[tokio::test(start_paused = true)]
async fn sessions_do_not_wait_for_each_other() {
    let engine = engine();
    let mut slow = Client::connect(engine.open().unwrap());
    let mut fast = Client::connect(engine.open().unwrap());
    let start = Instant::now();
    slow.send(SLOW_RECORD, ("slow".to_owned(), 10_000));
    fast.send(RECORD, "fast".to_owned());
    let counter: Counter = fast.settled().await;
    assert_eq!(counter.log, ["fast"]);
    // No virtual time passed: the other session's 10 s handler did not
    // hold this one up.
    assert!(start.elapsed() < Duration::from_millis(1));
    let counter: Counter = slow.settled().await;
    assert_eq!(counter.log, ["start:slow", "end:slow"]);
    assert!(start.elapsed() >= Duration::from_secs(10));
}
