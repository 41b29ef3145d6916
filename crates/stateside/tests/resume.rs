//! Rule 9, the engine's part: tasks run on while the tab is away, events
//! sent meanwhile are applied once, and a reconnecting client gets every
//! patch it missed, or a snapshot if the gap has left the replay ring.

mod support;

use stateside::{Config, Engine, transport::ServerMessage};
use support::*;

fn small_ring_engine() -> Engine {
    Engine::new(
        app(),
        Config {
            replay_ring: 16,
            ..config()
        },
    )
}

#[tokio::test(start_paused = true)]
async fn a_reconnecting_client_gets_what_it_missed() {
    let engine = small_ring_engine();
    let mut client = Client::connect(engine.open().unwrap());
    client.send(INCREMENT, ());
    client.settled::<Counter>().await;
    let (session, kept) = (client.session.clone(), client.document().clone());
    let since = kept.version();
    drop(client);

    // Away: a task works and the client's queued events arrive.
    let mut offline = Client::resume(session.clone(), kept.clone(), Some(since));
    offline.send(LOCKED_INCREMENTS, 5);
    offline.send(INCREMENT, ());
    drop(offline);
    while !session.is_quiet() {
        tokio::task::yield_now().await;
    }

    let mut client = Client::resume(session, kept, Some(since));
    assert!(
        client
            .received
            .iter()
            .all(|message| matches!(&**message, ServerMessage::Update(_))),
        "replayed, not a snapshot"
    );
    assert_eq!(
        client.versions(),
        (since + 1..=since + 6).collect::<Vec<_>>()
    );
    let counter: Counter = client.quiesce().await;
    assert_eq!(counter.count, 7);
    assert_eq!(client.document().acked(), 3);
}

#[tokio::test(start_paused = true)]
async fn a_gap_older_than_the_ring_gets_a_snapshot() {
    let engine = small_ring_engine();
    let mut client = Client::connect(engine.open().unwrap());
    client.send(INCREMENT, ());
    client.settled::<Counter>().await;
    let (session, kept) = (client.session.clone(), client.document().clone());
    drop(client);
    let mut offline = Client::resume(session.clone(), kept.clone(), Some(kept.version()));
    offline.send(LOCKED_INCREMENTS, 40);
    drop(offline);
    while !session.is_quiet() {
        tokio::task::yield_now().await;
    }

    let mut client = Client::resume(session, kept.clone(), Some(kept.version()));
    assert!(matches!(
        &*client.received[0],
        ServerMessage::Snapshot { .. }
    ));
    let counter: Counter = client.quiesce().await;
    assert_eq!(counter.count, 41);
}
