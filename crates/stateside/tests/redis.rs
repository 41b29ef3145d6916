//! Several engines sharing sessions through one Redis, as several server
//! processes do: each engine has its own Redis connections and stands for
//! one instance.

mod support;

use std::{sync::mpsc, time::Duration};

use serde::Serialize;
use stateside::{
    Cx, Engine, HandlerId, RedisStore, SessionHandle, SessionToken, transport::ClientEvent,
};
use support::{redis_server::RedisServer, *};

async fn instance(redis: &RedisServer, lease: Duration) -> Engine {
    let store = RedisStore::connect(&redis.url())
        .await
        .expect("connects to the test redis-server")
        .with_lease(lease);
    Engine::with_redis(
        app().on(FREEZE, freeze).on(FLUSH_FREEZE, flush_freeze),
        config(),
        store,
    )
}

/// Another instance's view of a session: waits for the owner's first save.
async fn join(engine: &Engine, token: &SessionToken) -> SessionHandle {
    tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            if let Some(session) = engine.resume(token).await.unwrap() {
                return session;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await
    .expect("the session reached Redis")
}

fn event<A: Serialize>(handler: HandlerId<A>, args: A, seq: u64) -> ClientEvent {
    let mut event = handler.call(&args).unwrap();
    event.seq = seq;
    event
}

/// Records a tag, then blocks its whole runtime thread: a process paused
/// (a GC pause, a stopped VM) while it holds the session.
const FREEZE: HandlerId<(String, u64)> = HandlerId::new("freeze");

async fn freeze(mut cx: Cx<Counter>, (tag, ms): (String, u64)) -> anyhow::Result<()> {
    cx.log.push(tag);
    std::thread::sleep(Duration::from_millis(ms));
    Ok(())
}

/// Increments and publishes at once, then blocks its whole runtime thread
/// before anything can save it: the tab sees an update the store never gets.
const FLUSH_FREEZE: HandlerId<u64> = HandlerId::new("flush_freeze");

async fn flush_freeze(mut cx: Cx<Counter>, ms: u64) -> anyhow::Result<()> {
    cx.count += 1;
    cx.flush();
    std::thread::sleep(Duration::from_millis(ms));
    Ok(())
}

/// The record of `token` as Redis has it.
async fn stored_counter(redis: &RedisServer, token: &SessionToken) -> Counter {
    let client = redis::Client::open(redis.url()).unwrap();
    let mut connection = client.get_multiplexed_async_connection().await.unwrap();
    let bytes: Vec<u8> = redis::cmd("GET")
        .arg(RedisStore::key(token, "record"))
        .query_async(&mut connection)
        .await
        .unwrap();
    let record: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    serde_json::from_value(record["document"]["counter"].clone()).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tab_on_one_instance_sees_events_sent_through_another() {
    let redis = RedisServer::start();
    let (a, b) = (
        instance(&redis, Duration::from_secs(5)).await,
        instance(&redis, Duration::from_secs(5)).await,
    );
    let mut tab = Client::connect(a.open().unwrap());
    let through_b = join(&b, &tab.session.token()).await;
    for seq in 1..=50 {
        through_b
            .submit(event(RECORD, seq.to_string(), seq))
            .unwrap();
    }
    let counter: Counter = tab.until(|c: &Counter| c.log.len() == 50).await;
    let expected: Vec<String> = (1..=50).map(|seq| seq.to_string()).collect();
    assert_eq!(counter.log, expected, "applied once each, in seq order");
    assert_eq!(tab.settled::<Counter>().await.log, expected);

    // A tab following on B sees the same stream, with the owner's versions.
    let mut tab_b = Client::connect(through_b.clone());
    tab_b.until(|c: &Counter| c.log.len() == 50).await;
    assert_eq!(tab_b.document().version(), tab.document().version());
    through_b.submit(event(INCREMENT, (), 51)).unwrap();
    let on_b: Counter = tab_b.until(|c: &Counter| c.count == 1).await;
    let on_a: Counter = tab.until(|c: &Counter| c.count == 1).await;
    assert_eq!(on_a, on_b);
    assert_eq!(tab.document().version(), tab_b.document().version());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_tasks_split_over_two_instances_count_exactly() {
    let redis = RedisServer::start();
    let (a, b) = (
        instance(&redis, Duration::from_secs(5)).await,
        instance(&redis, Duration::from_secs(5)).await,
    );
    let through_a = a.open().unwrap();
    let mut tab = Client::connect(through_a.clone());
    let through_b = join(&b, &through_a.token()).await;
    // One tab's seqs, its requests alternating between the instances.
    for seq in 1..=10 {
        let via = if seq % 2 == 0 { &through_a } else { &through_b };
        via.submit(event(LOCKED_INCREMENTS, 200, seq)).unwrap();
    }
    let counter: Counter = tab.until(|c: &Counter| c.count == 2000).await;
    assert_eq!(counter.count, 2000);
    let counter: Counter = tab.quiesce().await;
    assert_eq!(counter.count, 2000, "exact, with nothing more to come");
    // Patches go out before their save; the last save follows shortly.
    tokio::time::timeout(Duration::from_secs(10), async {
        while stored_counter(&redis, &through_a.token()).await.count != 2000 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await
    .expect("Redis has the exact total");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_holder_whose_lease_expired_cannot_overwrite_newer_state() {
    let redis = RedisServer::start();
    let lease = Duration::from_millis(300);
    let url = redis.url();
    let (to_test, from_a) = mpsc::channel();
    // Instance A runs on its own single thread, so that freezing the thread
    // stops everything A does, its lease renewals included.
    let stale = std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async move {
            let store = RedisStore::connect(&url).await.unwrap().with_lease(lease);
            let a = Engine::with_redis(app().on(FREEZE, freeze), config(), store);
            let mut tab = Client::connect(a.open().unwrap());
            tab.send(INCREMENT, ());
            tab.settled::<Counter>().await;
            let token = tab.session.token();
            to_test.send(token).unwrap();
            // Changes the state, then stalls for ten leases holding it.
            tab.send(FREEZE, ("stale".to_owned(), 3000));
            // Awake again: A must find out it lost the session and drop it.
            tokio::time::timeout(Duration::from_secs(10), async {
                while a.holds(&token) {
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
            })
            .await
            .expect("the stale holder dropped the session");
            let acked = tab.document().acked();
            assert!(tab.is_closed().await, "its streams end");
            acked
        })
    });
    let token = from_a.recv().unwrap();
    tokio::time::sleep(lease * 3).await;

    // A's lease has run out while it is paused: B takes the session over.
    let b = instance(&redis, lease).await;
    let session = join(&b, &token).await;
    assert_eq!(session.next_seq(), 2, "the frozen event was never saved");
    let mut tab = Client::connect(session);
    tab.send(RECORD, "newer".to_owned());
    tab.settled::<Counter>().await;

    let stale_acked = stale.join().unwrap();
    assert_eq!(stale_acked, 1, "the frozen event was never acknowledged");
    // Give a write that got through every chance to land, then look.
    tokio::time::sleep(lease).await;
    let stored = stored_counter(&redis, &token).await;
    assert_eq!(
        stored.log,
        vec!["newer".to_owned()],
        "the stale write was refused"
    );
    assert_eq!(stored.count, 1);
    // B still owns it and goes on.
    tab.send(INCREMENT, ());
    assert_eq!(tab.settled::<Counter>().await.count, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_go_on_after_redis_restarts_empty() {
    let mut redis = RedisServer::start();
    let lease = Duration::from_millis(300);
    let a = instance(&redis, lease).await;
    let mut tab = Client::connect(a.open().unwrap());
    for _ in 0..10 {
        tab.send(INCREMENT, ());
    }
    assert_eq!(tab.settled::<Counter>().await.count, 10);

    redis.restart();
    for _ in 0..10 {
        tab.send(INCREMENT, ());
    }
    assert_eq!(
        tab.settled::<Counter>().await.count,
        20,
        "acked once saved again"
    );
    // The owner put the whole session back, and another instance sees it.
    let b = instance(&redis, lease).await;
    let through_b = join(&b, &tab.session.token()).await;
    let mut tab_b = Client::connect(through_b);
    assert_eq!(tab_b.document().state::<Counter>().unwrap().count, 20);
    tab_b.send(INCREMENT, ());
    assert_eq!(tab.until(|c: &Counter| c.count == 21).await.count, 21);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tab_that_saw_an_unsaved_update_resyncs_after_a_takeover() {
    let redis = RedisServer::start();
    let lease = Duration::from_millis(300);
    let url = redis.url();
    let (to_test, from_a) = mpsc::channel();
    let (stop_a, stopped) = tokio::sync::oneshot::channel::<()>();
    // Instance A on its own single thread: freezing it stops its saves.
    let a = std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async move {
            let store = RedisStore::connect(&url).await.unwrap().with_lease(lease);
            let a = Engine::with_redis(app().on(FLUSH_FREEZE, flush_freeze), config(), store);
            to_test.send(a.open().unwrap()).unwrap();
            stopped.await.ok();
        });
    });
    let mut tab = Client::connect(from_a.recv().unwrap());
    let token = tab.session.token();
    tab.send(INCREMENT, ());
    tab.settled::<Counter>().await;
    // The tab sees count 2; then A stalls for ten leases before saving it.
    tab.send(FLUSH_FREEZE, 3000);
    tab.until(|c: &Counter| c.count == 2).await;
    let (seen, since) = (tab.document().clone(), tab.document().version());

    // B takes over from the record, which has count 1, and goes on.
    redis.until_unowned(&token).await;
    let b = instance(&redis, lease).await;
    let session = join(&b, &token).await;
    let mut other = Client::connect(session.clone());
    other.send(RECORD, "newer".to_owned());
    other.settled::<Counter>().await;

    // The tab comes back to B with the version it saw on A.
    let tab = Client::resume(session.clone(), seen, Some(since));
    let server = session.read(|c: &Counter| c.clone()).await;
    assert_eq!(server.count, 1, "A's unsaved update is gone");
    assert_eq!(
        tab.document().state::<Counter>().unwrap(),
        server,
        "the tab resynced instead of keeping what the server never had"
    );
    stop_a.send(()).unwrap();
    a.join().unwrap();
}

/// Every key Redis has under `stateside:`.
async fn stateside_keys(connection: &mut redis::aio::MultiplexedConnection) -> Vec<String> {
    redis::cmd("KEYS")
        .arg("stateside:*")
        .query_async(connection)
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_key_of_an_expired_session_is_left_in_redis() {
    let redis = RedisServer::start();
    let short = stateside::Config {
        idle_ttl: Duration::from_millis(300),
        ..config()
    };
    let instance = |lease| {
        let (url, config) = (redis.url(), short.clone());
        async move {
            let store = RedisStore::connect(&url).await.unwrap().with_lease(lease);
            let engine = Engine::with_redis(app(), config, store);
            engine.spawn_expiry();
            engine
        }
    };
    let (a, b) = (
        instance(Duration::from_millis(300)).await,
        instance(Duration::from_millis(300)).await,
    );
    let mut connection = redis.connection().await;
    for _ in 0..3 {
        // A session owned by A, with events through A and through B.
        let mut tab = Client::connect(a.open().unwrap());
        let through_b = join(&b, &tab.session.token()).await;
        tab.send(INCREMENT, ());
        tab.settled::<Counter>().await;
        through_b.submit(event(INCREMENT, (), 2)).unwrap();
        tab.until(|c: &Counter| c.count == 2).await;
    }
    assert!(!stateside_keys(&mut connection).await.is_empty());

    tokio::time::timeout(Duration::from_secs(30), async {
        while a.session_count() + b.session_count() > 0 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await
    .expect("every session expired");
    let mut left = Vec::new();
    let gone = tokio::time::timeout(Duration::from_secs(30), async {
        loop {
            left = stateside_keys(&mut connection).await;
            if left.is_empty() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await;
    assert!(gone.is_ok(), "keys left: {left:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shutdown_hands_sessions_over_at_once() {
    let redis = RedisServer::start();
    // Far longer than this test may wait: only a release hands over in time.
    let lease = Duration::from_secs(60);
    let (a, b) = (instance(&redis, lease).await, instance(&redis, lease).await);
    let mut tab = Client::connect(a.open().unwrap());
    let token = tab.session.token();
    tab.send(INCREMENT, ());
    tab.settled::<Counter>().await;
    let mut follower_tab = Client::connect(join(&b, &token).await);

    a.close();
    assert!(a.drain(Duration::from_secs(10)).await);
    tokio::time::timeout(Duration::from_secs(15), async {
        // B stops following (its tabs reconnect) and runs the session.
        assert!(follower_tab.is_closed().await);
        let session = b.resume(&token).await.unwrap().expect("B has it");
        let mut tab = Client::connect(session);
        tab.send(INCREMENT, ());
        tab.until(|c: &Counter| c.count == 2).await;
    })
    .await
    .expect("B took the session over without waiting out A's lease");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stale_owner_leaves_the_inbox_to_the_new_one() {
    let redis = RedisServer::start();
    // A renews rarely: it learns of the new owner only when it writes.
    let a = instance(&redis, Duration::from_secs(60)).await;
    let mut tab = Client::connect(a.open().unwrap());
    let token = tab.session.token();
    tab.send(INCREMENT, ());
    tab.settled::<Counter>().await;
    // Another instance takes the session over (A was paused, say), and a
    // follower forwards an event to it, as `FORWARD` does.
    let mut connection = redis.connection().await;
    let key = |part: &str| RedisStore::key(&token, part);
    let event = serde_json::to_vec(&event(INCREMENT, (), 2)).unwrap();
    let () = redis::pipe()
        .cmd("SET")
        .arg(key("fence"))
        .arg(2)
        .ignore()
        .cmd("SET")
        .arg(key("owner"))
        .arg("another:2")
        .ignore()
        .cmd("RPUSH")
        .arg(key("inbox"))
        .arg(event)
        .ignore()
        .cmd("PUBLISH")
        .arg(key("wake"))
        .arg("")
        .ignore()
        .query_async(&mut connection)
        .await
        .unwrap();

    tokio::time::timeout(Duration::from_secs(30), async {
        while a.holds(&token) {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await
    .expect("A found out and dropped the session");
    let left: usize = redis::cmd("LLEN")
        .arg(key("inbox"))
        .query_async(&mut connection)
        .await
        .unwrap();
    assert_eq!(left, 1, "the event is still there for the new owner");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_follower_reads_what_the_owner_saved() {
    let redis = RedisServer::start();
    let lease = Duration::from_secs(5);
    let (a, b) = (instance(&redis, lease).await, instance(&redis, lease).await);
    let mut tab = Client::connect(a.open().unwrap());
    let through_b = join(&b, &tab.session.token()).await;
    let mut tab_b = Client::connect(through_b.clone());
    tab.send(INCREMENT, ());
    tab.send(RECORD, "on a".to_owned());
    tab.settled::<Counter>().await;
    let seen: Counter = tab_b.until(|c: &Counter| c.log.len() == 1).await;
    assert_eq!(through_b.read(Counter::clone).await, seen);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancel_through_a_follower_stops_the_task_on_its_owner() {
    let redis = RedisServer::start();
    let lease = Duration::from_secs(5);
    let (a, b) = (instance(&redis, lease).await, instance(&redis, lease).await);
    let mut tab = Client::connect(a.open().unwrap());
    // Sleeps far longer than the test: only a cancel ends it.
    tab.send(SLEEP_THEN_RECORD, ("never".to_owned(), 600_000));
    tab.settled::<Counter>().await;
    let task = tab.session.tasks()[0].id;
    let through_b = join(&b, &tab.session.token()).await;
    assert!(through_b.cancel(task));
    tokio::time::timeout(Duration::from_secs(15), async {
        while !tab.session.tasks().is_empty() {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await
    .expect("the owner cancelled its task");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_owner_that_could_not_subscribe_while_redis_was_down_still_hears_its_followers() {
    let mut redis = RedisServer::start();
    let lease = Duration::from_secs(5);
    let a = instance(&redis, lease).await;
    redis.kill();
    // Opened while Redis is down: its inbox's wake-up cannot be subscribed.
    let mut tab = Client::connect(a.open().unwrap());
    tab.send(INCREMENT, ());
    tokio::time::sleep(Duration::from_millis(200)).await;
    redis.launch();
    tab.settled::<Counter>().await;

    let b = instance(&redis, lease).await;
    let through_b = join(&b, &tab.session.token()).await;
    through_b.submit(event(INCREMENT, (), 2)).unwrap();
    tokio::time::timeout(
        Duration::from_secs(15),
        tab.until(|c: &Counter| c.count == 2),
    )
    .await
    .expect("the owner drained what B forwarded");
}

/// Issue 14: a flood sent through a follower is pushed back to its client
/// as on the owner, and Redis never holds more of it than the owner's queue
/// limit; everything taken is applied once the owner catches up.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_through_a_follower_is_busy_at_the_owners_queue_limit() {
    const LIMIT: usize = 8;
    let redis = RedisServer::start();
    let instance = || {
        let url = redis.url();
        async move {
            let store = RedisStore::connect(&url).await.unwrap();
            let config = stateside::Config {
                queue_limit: LIMIT,
                ..config()
            };
            Engine::with_redis(app(), config, store)
        }
    };
    let (owner, follower) = (instance().await, instance().await);
    let mut tab = Client::connect(owner.open().unwrap());
    let followed = join(&follower, &tab.session.token()).await;
    // The owner is busy for a second: the flood piles up behind it.
    followed
        .submit(event(SLOW_RECORD, ("slow".to_owned(), 1000), 1))
        .unwrap();
    let mut taken = 0;
    let refused = loop {
        match followed.submit(event(INCREMENT, (), taken + 2)) {
            Ok(_) => taken += 1,
            Err(error) => break error,
        }
        assert!(taken < 10 * LIMIT as u64, "the follower never pushed back");
    };
    assert!(
        matches!(refused, stateside::Error::Busy { .. }),
        "{refused}"
    );
    assert!(!followed.has_room());

    let mut connection = redis.connection().await;
    let inboxes: Vec<String> = redis::cmd("KEYS")
        .arg("stateside:*:inbox")
        .query_async(&mut connection)
        .await
        .unwrap();
    for inbox in inboxes {
        let held: usize = redis::cmd("LLEN")
            .arg(&inbox)
            .query_async(&mut connection)
            .await
            .unwrap();
        assert!(held <= LIMIT, "{inbox} holds {held}");
    }
    let counter = tab.until(|c: &Counter| c.count as u64 == taken).await;
    assert_eq!(counter.log, ["start:slow", "end:slow"]);
}

/// Found by the fault schedule (`server/tests/chaos`): the Redis
/// connections kept redis-rs's default reconnection backoff, which waits a
/// minute or two between attempts once the first retry has failed. An
/// owner whose first retries fell while Redis was restarting could then
/// neither save (so no event was acknowledged) nor renew its leases for
/// minutes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_owner_acknowledges_again_within_seconds_of_redis_coming_back() {
    let mut redis = RedisServer::start_durable();
    let a = instance(&redis, Duration::from_secs(5)).await;
    let mut tab = Client::connect(a.open().unwrap());
    tab.send(INCREMENT, ());
    assert_eq!(tab.settled::<Counter>().await.count, 1);

    redis.kill();
    // Its save starts the reconnection, whose first retries fail too.
    tab.send(INCREMENT, ());
    tokio::time::sleep(Duration::from_secs(3)).await;
    redis.launch();
    let settled = tokio::time::timeout(Duration::from_secs(10), tab.settled::<Counter>()).await;
    assert_eq!(
        settled
            .expect("acknowledged within seconds of Redis coming back")
            .count,
        2
    );
}

/// Found by the fault schedule (`server/tests/chaos`, seed 1019): a tab
/// that saw its owner's latest, not yet saved, version and reconnected
/// through a follower got the follower's older snapshot, so its document
/// went back a few versions. The follower now sends no snapshot older than
/// the tab's copy: the tab waits for the owner's save, or a takeover's jump.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tab_never_goes_back_a_version_by_reconnecting_through_a_follower() {
    let mut redis = RedisServer::start_durable();
    let lease = Duration::from_secs(5);
    let (a, b) = (instance(&redis, lease).await, instance(&redis, lease).await);
    let mut tab = Client::connect(a.open().unwrap());
    tab.send(INCREMENT, ());
    tab.settled::<Counter>().await;
    let through_b = join(&b, &tab.session.token()).await;

    // Redis is down: the owner streams its next version, and cannot save it.
    redis.kill();
    tab.send(INCREMENT, ());
    tab.until(|c: &Counter| c.count == 2).await;
    let held = tab.document().version();
    let backlog = through_b.subscribe(Some(held)).unwrap().backlog;
    redis.launch();
    let versions: Vec<u64> = backlog.iter().map(|message| message.version()).collect();
    assert!(
        versions.iter().all(|&version| version >= held),
        "the tab holds version {held}; the follower sent {versions:?}"
    );
}
