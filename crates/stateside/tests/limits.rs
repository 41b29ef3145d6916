//! Caps that keep one tab, or a flood of them, from exhausting the process:
//! each is refused with a clear notice or error, and nothing else is lost.

mod support;

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

#[tokio::test]
async fn a_new_tab_beyond_the_session_cap_is_refused() {
    let engine = engine_with(Config {
        max_sessions: 2,
        ..config()
    });
    engine.open().unwrap();
    engine.open().unwrap();
    assert_eq!(
        engine.open().err(),
        Some(Error::TooManySessions { limit: 2 })
    );
    assert_eq!(engine.session_count(), 2);
}
