//! Derived states through the engine (issue 15): a `List` change is one op
//! on the stream whatever the list's length, the byte budget holds without
//! serialising the whole state, a `#[backend]` field survives a restart on
//! the file store and a Redis takeover without ever reaching a client, and
//! computed fields are recomputed, not read back, when a session returns.

mod support;

use std::{sync::Arc, sync::mpsc, time::Duration};

use stateside::{App, Config, Cx, Engine, FileStore, HandlerId, RedisStore, Store};
use stateside_wire::{List, ServerMessage, State};
use support::{redis_server::RedisServer, *};

#[derive(Clone, Default, Debug, State)]
struct Account {
    visits: List<String>,
    #[computed(count(visits))]
    visit_count: usize,
    #[backend]
    password_hash: String,
}

fn count(visits: &List<String>) -> usize {
    visits.len()
}

const VISIT: HandlerId<String> = HandlerId::new("visit");
const VISITS: HandlerId<usize> = HandlerId::new("visits");
const SET_HASH: HandlerId<String> = HandlerId::new("set_hash");

/// Stands out in any message it leaks into.
const HASH: &str = "argon2id$never-sent$hash";

fn account_app() -> App {
    App::new()
        .on(VISIT, |mut cx: Cx<Account>, page: String| async move {
            cx.visits.push(page);
            Ok(())
        })
        .on(VISITS, |mut cx: Cx<Account>, n: usize| async move {
            cx.visits.extend((0..n).map(|i| format!("page-{i:06}")));
            Ok(())
        })
        .on(SET_HASH, |mut cx: Cx<Account>, hash: String| async move {
            cx.password_hash = hash;
            Ok(())
        })
}

/// One instance of the app on the Redis at `url`, with a short lease.
async fn instance(url: String) -> Engine {
    let store = RedisStore::connect(&url).await.unwrap();
    let store = store.with_lease(Duration::from_millis(300));
    Engine::with_redis(account_app(), config(), store)
}

fn received_text(client: &Client) -> String {
    let messages = client.received.iter();
    messages
        .map(|message| serde_json::to_string(&**message).unwrap())
        .collect()
}

fn assert_never_sent(client: &Client) {
    let text = received_text(client);
    assert!(!client.received.is_empty());
    assert!(!text.contains(HASH), "a backend field was sent: {text}");
    assert!(!text.contains("password_hash"), "{text}");
}

#[tokio::test]
async fn an_append_to_a_long_list_is_one_op_on_the_stream() {
    let roomy = Config {
        max_state_bytes: 8 << 20,
        ..config()
    };
    let engine = Engine::new(account_app(), roomy);
    let mut tab = Client::connect(engine.open().unwrap());
    tab.send(VISITS, 100_000);
    tab.settled::<Account>().await;
    tab.send(VISIT, "/last".to_owned());
    let account: Account = tab.settled().await;
    assert_eq!(account.visit_count, 100_001);
    let last = tab
        .received
        .iter()
        .rev()
        .find_map(|message| match &**message {
            ServerMessage::Update(update) if !update.ops.is_empty() => Some(update.clone()),
            _ => None,
        });
    let ops = serde_json::to_value(last.unwrap().ops).unwrap();
    assert_eq!(
        ops,
        serde_json::json!([
            { "op": "add", "path": "/account/visits/-", "value": "/last" },
            { "op": "replace", "path": "/account/visit_count", "value": 100_001 },
        ])
    );
}

#[tokio::test]
async fn a_list_past_the_state_budget_is_refused_without_a_full_serialise() {
    let engine = Engine::new(
        account_app(),
        Config {
            max_state_bytes: 64 * 1024,
            ..config()
        },
    );
    let mut tab = Client::connect(engine.open().unwrap());
    // About 14 bytes an item: 4,000 fit, 5,000 more do not.
    tab.send(VISITS, 4_000);
    tab.send(VISITS, 5_000);
    tab.send(VISIT, "/after".to_owned());
    let account: Account = tab.settled().await;
    assert_eq!(account.visit_count, 4_001);
    let notices = tab.notices();
    assert_eq!(notices.len(), 1, "{notices:?}");
    assert!(
        notices[0].message.contains("over its limit of 64 KiB"),
        "{notices:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backend_field_survives_a_restart_on_the_file_store_and_is_never_sent() {
    let dir = tempfile::tempdir().unwrap();
    let file = Arc::new(FileStore::open(dir.path().join("sessions.redb")).unwrap());
    let open = || Engine::with_store(account_app(), config(), Arc::clone(&file) as Arc<dyn Store>);
    let before = open();
    let mut tab = Client::connect(before.open().unwrap());
    let token = tab.session.token();
    tab.send(SET_HASH, HASH.to_owned());
    tab.send(VISIT, "/".to_owned());
    tab.send(VISIT, "/login".to_owned());
    tab.settled::<Account>().await;
    assert_never_sent(&tab);
    drop(tab);
    before.close();
    before.drain(Duration::from_millis(200)).await;

    let after = open();
    let session = after.resume(&token).await.unwrap().expect("restored");
    let (hash, visits) = session
        .read(|account: &Account| (account.password_hash.clone(), account.visit_count))
        .await;
    assert_eq!(hash, HASH);
    assert_eq!(visits, 2, "recomputed from the restored visits");
    let mut tab = Client::connect(session);
    tab.send(VISIT, "/again".to_owned());
    assert_eq!(tab.settled::<Account>().await.visit_count, 3);
    assert_never_sent(&tab);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backend_field_moves_with_a_redis_takeover_and_no_instance_sends_it() {
    let redis = RedisServer::start();
    // Instance A on its own runtime, dropped without a shutdown: a crash.
    let (to_test, from_a) = mpsc::channel();
    let (crash_a, crashed) = tokio::sync::oneshot::channel::<()>();
    let url = redis.url();
    let a = std::thread::spawn(move || {
        let runtime = tokio::runtime::Runtime::new().unwrap();
        runtime.block_on(async move {
            let a = instance(url).await;
            let mut tab = Client::connect(a.open().unwrap());
            tab.send(SET_HASH, HASH.to_owned());
            tab.send(VISIT, "/".to_owned());
            tab.settled::<Account>().await;
            assert_never_sent(&tab);
            to_test.send(tab.session.token()).unwrap();
            crashed.await.ok();
        });
    });
    let token = from_a.recv().unwrap();

    // While A owns it, B follows: its tabs get the owner's saves.
    let b = instance(redis.url()).await;
    let following = b.resume(&token).await.unwrap().expect("followed");
    let mut watcher = Client::connect(following);
    assert_eq!(watcher.settled::<Account>().await.visit_count, 1);
    assert_never_sent(&watcher);
    drop(watcher);

    crash_a.send(()).unwrap();
    a.join().unwrap();
    redis.until_unowned(&token).await;
    let c = instance(redis.url()).await;
    let session = c.resume(&token).await.unwrap().expect("taken over");
    let hash = session
        .read(|account: &Account| account.password_hash.clone())
        .await;
    assert_eq!(hash, HASH);
    let mut tab = Client::connect(session);
    tab.send(VISIT, "/after-takeover".to_owned());
    assert_eq!(tab.settled::<Account>().await.visit_count, 2);
    assert_never_sent(&tab);
}
