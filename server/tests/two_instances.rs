//! Two server processes on two ports sharing one Redis act as one app: a
//! tab whose stream is on instance A sends its events through instance B,
//! and sees their patches.

#[path = "../../crates/stateside/tests/support/redis_server.rs"]
#[allow(dead_code)] // the engine's tests use all of it
mod redis_server;
mod support;

use std::time::Duration;

use app::bench::{Bench, INCREMENT};
use redis_server::RedisServer;
use stateside_wire::Receipt;
use support::{Instance, Tab};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tab_streaming_from_one_instance_sees_events_sent_through_another() {
    let redis = RedisServer::start();
    let store = redis.url();
    let (a, b) = (
        Instance::start(&["--store", &store]).await,
        Instance::start(&["--store", &store]).await,
    );
    let mut tab = Tab::open(&a).await;
    tab.connect(&a, None).await;

    const EVENTS: i64 = 20;
    let events: Vec<_> = (0..EVENTS).map(|_| tab.event(INCREMENT, ())).collect();
    // B learns of the session from Redis once A has saved it.
    let receipts = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            if let Ok(receipts) = tab.try_send(&b, &events).await {
                break receipts;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .expect("B accepts the events");
    assert!(
        receipts.iter().all(|receipt| *receipt == Receipt::Accepted),
        "{receipts:?}"
    );

    // A's stream carries every patch, in version order, and the acks.
    tab.settled().await;
    let bench: Bench = tab.document().state().unwrap();
    assert_eq!(bench.count, EVENTS);
}
