//! Caps that keep one tab, or a flood of them, from exhausting the process:
//! each is refused with a clear notice or error, and nothing else is lost.

mod support;

use std::time::Duration;

use stateside::{Config, Engine, Error};
use support::*;

fn engine_with(config: Config) -> Engine {
    Engine::new(app(), config)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_task_beyond_the_cap_is_refused_with_a_notice() {
    let engine = engine_with(Config {
        max_tasks_per_session: 2,
        ..config()
    });
    let mut client = Client::connect(engine.open().unwrap());
    for tag in ["a", "b", "c"] {
        client.send(SLEEP_THEN_RECORD, (tag.to_owned(), 300));
    }
    client.send(INCREMENT, ());
    let counter: Counter = client.until(|c: &Counter| c.log.len() == 2).await;
    let mut log = counter.log.clone();
    log.sort();
    assert_eq!(log, ["a", "b"]);
    let notices = client.notices();
    assert_eq!(notices.len(), 1, "{notices:?}");
    assert!(notices[0].message.contains("too many background tasks"));
    assert_eq!(notices[0].handler, "sleep_then_record");
    // Every event was acknowledged, the refused one included, and the
    // session goes on.
    let settled: Counter = client.settled().await;
    assert_eq!(settled.count, 1);
}

/// Issue 14: at the limit, the longest-idle session makes room, so a flood
/// of opens cannot lock new visitors out; sessions in use are never taken.
#[tokio::test(start_paused = true)]
async fn at_the_session_limit_a_new_tab_takes_the_place_of_the_longest_idle() {
    let engine = engine_with(Config {
        max_sessions: 3,
        ..config()
    });
    let watched = Client::connect(engine.open().unwrap());
    let oldest = engine.open().unwrap().token();
    tokio::time::sleep(Duration::from_secs(1)).await;
    let newer = engine.open().unwrap().token();
    tokio::time::sleep(Duration::from_secs(1)).await;

    let newest = engine.open().expect("room is made");
    assert!(!engine.holds(&oldest), "the longest idle made room");
    assert!(engine.holds(&newer) && engine.holds(&watched.session.token()));
    assert_eq!(engine.session_count(), 3);

    // With every session in use, there is nothing to take.
    let _tabs = [
        Client::connect(newest),
        Client::connect(engine.resume(&newer).await.unwrap().unwrap()),
    ];
    assert!(matches!(
        engine.open(),
        Err(Error::TooManySessions { limit: 3 })
    ));
}

/// Issue 14: one tab cannot grow the server's memory without bound; the
/// change that would is undone, the tab is told, and the session goes on.
#[tokio::test]
async fn a_change_past_the_state_budget_is_rolled_back_with_a_notice() {
    let engine = engine_with(Config {
        max_state_bytes: 4096,
        ..config()
    });
    let mut client = Client::connect(engine.open().unwrap());
    client.send(RECORD, "a".repeat(1000));
    client.send(RECORD, "b".repeat(5000));
    client.send(RECORD, "c".repeat(1000));
    let counter: Counter = client.settled().await;
    assert_eq!(counter.log, ["a".repeat(1000), "c".repeat(1000)]);
    let notices = client.notices();
    assert_eq!(notices.len(), 1, "{notices:?}");
    assert_eq!(notices[0].handler, "record");
    assert!(
        notices[0]
            .message
            .contains("the session's state would be 6 KiB, over its limit of 4 KiB"),
        "{}",
        notices[0].message
    );
}

/// Issue 14: streams cost a buffer each, so a session has a bounded number;
/// a stream that fell behind still restarts at the limit, in its own place.
#[tokio::test]
async fn a_session_takes_at_most_its_streams() {
    let engine = engine_with(Config {
        max_streams_per_session: 2,
        ..config()
    });
    let session = engine.open().unwrap();
    let first = session.subscribe(None).unwrap();
    let _second = session.subscribe(None).unwrap();
    assert_eq!(
        session.subscribe(None).err(),
        Some(Error::TooManyStreams { limit: 2 })
    );
    let restarted = session.resubscribe(Some(session.version()), first.live);
    assert_eq!(
        restarted.backlog.len(),
        1,
        "only the ack: nothing was missed"
    );
    drop(restarted);
    session
        .subscribe(None)
        .expect("a closed stream frees its place");
}
