//! The same behaviour on every store, plus what only a durable store
//! promises: acknowledged events survive the process, and a returning tab
//! resumes its session from them.

mod support;

use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::Duration,
};

use stateside::{
    Engine, FileStore, RedisStore, SessionToken, Store, StoreError, transport::Submitted,
};
use stateside_wire::Document;
use support::{redis_server::RedisServer, *};

/// An engine per store kind; the file one keeps its database in `dir`, the
/// Redis one uses `redis`.
async fn engines(dir: &tempfile::TempDir, redis: &RedisServer) -> Vec<(&'static str, Engine)> {
    let store: Arc<dyn Store> =
        Arc::new(FileStore::open(dir.path().join("sessions.redb")).unwrap());
    let redis = RedisStore::connect(&redis.url()).await.unwrap();
    vec![
        ("memory", Engine::new(app(), config())),
        ("file", Engine::with_store(app(), config(), store)),
        ("redis", Engine::with_redis(app(), config(), redis)),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_store_applies_events_and_tasks_exactly() {
    let (dir, redis) = (tempfile::tempdir().unwrap(), RedisServer::start());
    for (kind, engine) in engines(&dir, &redis).await {
        let mut client = Client::connect(engine.open().unwrap());
        for round in 0..20 {
            if round < 4 {
                client.send(LOCKED_INCREMENTS, 50);
            }
            client.send(INCREMENT, ());
        }
        let counter: Counter = client.until(|c: &Counter| c.count == 220).await;
        assert_eq!(counter.count, 220, "{kind}");
        let settled: Counter = client.settled().await;
        assert_eq!(settled.count, 220, "{kind}");
        let server = client.session.read(|c: &Counter| c.clone()).await;
        assert_eq!(
            client.document().state::<Counter>().unwrap(),
            server,
            "{kind}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_events_survive_the_process_on_the_file_store() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sessions.redb");
    let (token, acked, document) = {
        let store = Arc::new(FileStore::open(&path).unwrap());
        let engine = Engine::with_store(app(), config(), store);
        let mut client = Client::connect(engine.open().unwrap());
        for tag in 0..30 {
            client.send(RECORD, tag.to_string());
        }
        // Acks arrive only once the store has the events.
        let counter: Counter = client.settled().await;
        assert_eq!(counter.log.len(), 30);
        (
            client.session.token(),
            client.document().acked(),
            client.document().clone(),
        )
        // The engine is dropped here without any shutdown, as in a crash.
    };
    assert_eq!(acked, 30);

    // The old engine's writer lets go of the file once its last session is
    // gone; a new process would not have to wait.
    let store = loop {
        match FileStore::open(&path) {
            Ok(store) => break Arc::new(store),
            Err(_) => tokio::time::sleep(std::time::Duration::from_millis(10)).await,
        }
    };
    let engine = Engine::with_store(app(), config(), store);
    assert!(!engine.holds(&token), "a new process starts empty");
    let session = engine
        .resume(&token)
        .await
        .unwrap()
        .expect("restored from the file");
    assert_eq!(
        session.next_seq(),
        31,
        "the next seq follows the acknowledged ones"
    );
    let restored = session.read(|c: &Counter| c.clone()).await;
    assert_eq!(restored, document.state::<Counter>().unwrap());

    // A tab that held version v resumes without a snapshot, and goes on.
    // A tab that saw versions the crash erased resyncs from a snapshot,
    // whatever the restored session goes on to number.
    let ahead = session.subscribe(Some(document.version() + 3)).unwrap();
    assert!(matches!(
        &*ahead.backlog[0],
        stateside::transport::ServerMessage::Snapshot { version, .. } if *version > document.version() + 3
    ));
    let since = Some(document.version());
    let mut client = Client::resume(session, document, since);
    client.send(RECORD, "after restart".to_owned());
    let counter: Counter = client.until(|c: &Counter| c.log.len() == 31).await;
    assert_eq!(
        counter.log.last().map(String::as_str),
        Some("after restart")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_tokens_stay_unknown_on_every_store() {
    let (dir, redis) = (tempfile::tempdir().unwrap(), RedisServer::start());
    for (kind, engine) in engines(&dir, &redis).await {
        let stranger = stateside::SessionToken::random();
        assert!(engine.resume(&stranger).await.unwrap().is_none(), "{kind}");
    }
}

/// A file store on a slow disk (each save takes `delay`), whose process
/// "crashes" (takes no more saves) right after the first save in which
/// `crash_after` holds for the stored counter.
struct FaultyStore {
    file: Arc<FileStore>,
    delay: Duration,
    crash_after: fn(&Counter) -> bool,
    crashed: AtomicBool,
}

impl FaultyStore {
    fn new(file: &Arc<FileStore>, delay: Duration, crash_after: fn(&Counter) -> bool) -> Self {
        Self {
            file: Arc::clone(file),
            delay,
            crash_after,
            crashed: AtomicBool::new(false),
        }
    }
}

impl Store for FaultyStore {
    fn load(&self, token: &SessionToken) -> Result<Option<Vec<u8>>, StoreError> {
        self.file.load(token)
    }

    fn save(&self, batch: &[(SessionToken, Vec<u8>)]) -> Result<(), StoreError> {
        if self.crashed.load(Ordering::SeqCst) {
            return Err(StoreError::new("crashed"));
        }
        std::thread::sleep(self.delay);
        self.file.save(batch)?;
        for (_, record) in batch {
            if (self.crash_after)(&stored_counter(record)) {
                self.crashed.store(true, Ordering::SeqCst);
            }
        }
        Ok(())
    }

    fn remove(&self, token: &SessionToken) -> Result<(), StoreError> {
        self.file.remove(token)
    }
}

/// The counter in a stored record.
fn stored_counter(record: &[u8]) -> Counter {
    let record: serde_json::Value = serde_json::from_slice(record).unwrap();
    serde_json::from_value(record["document"]["counter"].clone()).unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_background_start_runs_once_across_a_crash() {
    let dir = tempfile::tempdir().unwrap();
    let file = Arc::new(FileStore::open(dir.path().join("sessions.redb")).unwrap());
    // Crashes after the task's first increment, saved while event 2 runs.
    let crashing = Arc::new(FaultyStore::new(&file, Duration::ZERO, |counter| {
        counter.count >= 1
    }));
    let before = Engine::with_store(app(), config(), Arc::clone(&crashing) as Arc<dyn Store>);
    let mut client = Client::connect(before.open().unwrap());
    let token = client.session.token();
    // [1 slow][2 slow][3 task]: the task starts (and counts as applied) at
    // once, and takes the fair lock between events 1 and 2.
    client.send(SLOW_RECORD, ("one".to_owned(), 300));
    client.send(SLOW_RECORD, ("two".to_owned(), 300));
    client.send(LOCKED_INCREMENTS, 5);
    tokio::time::timeout(Duration::from_secs(60), async {
        while !crashing.crashed.load(Ordering::SeqCst) {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await
    .expect("the store crashed");
    // The old process is gone.
    before.close();
    before.drain(Duration::ZERO).await;
    drop(client);

    // A restart: a new engine restores the session from the file.
    let after = Engine::with_store(app(), config(), file as Arc<dyn Store>);
    let session = after.resume(&token).await.unwrap().expect("restored");
    let restored = session.read(|c: &Counter| c.clone()).await;
    assert_eq!(
        restored.count, 1,
        "the crash came after the first increment"
    );
    // Event 2 was still running (and 1 may not have begun: the task can
    // take the lock first). The tab resends what is not acknowledged.
    let resend_from = session.next_seq();
    assert!(resend_from <= 2, "event 2 was never applied");
    let mut client = Client::resume(session, Document::default(), None);
    if resend_from == 1 {
        client.send(SLOW_RECORD, ("one".to_owned(), 0));
    }
    assert_eq!(
        client.send(SLOW_RECORD, ("two".to_owned(), 0)),
        Submitted::Accepted
    );
    assert_eq!(
        client.send(LOCKED_INCREMENTS, 5),
        Submitted::Duplicate,
        "the task already started before the crash"
    );
    let counter: Counter = client.quiesce().await;
    assert_eq!(counter.count, 1, "the task did not run a second time");
    assert_eq!(counter.log.last().map(String::as_str), Some("end:two"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shutdown_saves_what_tasks_changed_last() {
    let dir = tempfile::tempdir().unwrap();
    let file = Arc::new(FileStore::open(dir.path().join("sessions.redb")).unwrap());
    let slow = Arc::new(FaultyStore::new(&file, Duration::from_millis(200), |_| {
        false
    }));
    let engine = Engine::with_store(app(), config(), slow);
    let mut client = Client::connect(engine.open().unwrap());
    let token = client.session.token();
    client.send(SLEEP_THEN_RECORD, ("last".to_owned(), 100));
    engine.close();
    assert!(engine.drain(Duration::from_secs(30)).await);
    // The process may exit now: the file has everything.
    let record = file.load(&token).unwrap().expect("the session was saved");
    assert_eq!(stored_counter(&record).log, ["last"]);
}
