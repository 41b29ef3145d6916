//! Shared states (issue 17): one value per key, linked by many sessions,
//! written under its own fair lock inside a session's lock section, and
//! fanned out to every linked session with that session's own versions.
//! Each client here mirrors its stream through the wire crate's checking
//! mirror, so every test also checks that each session's versions run on
//! without a gap.

mod support;

use std::{sync::Arc, time::Duration};

use stateside::{
    App, Config, Cx, Engine, FileStore, HandlerId, Presence, RedisStore, SharedState, State, Store,
    Task,
};
use stateside_wire::List;
use support::{redis_server::RedisServer, *};

/// A room's board: a count, a log of who wrote, and who is here.
#[derive(Clone, Default, Debug, PartialEq, State)]
struct Board {
    count: i64,
    log: List<String>,
    here: Presence,
}

impl SharedState for Board {
    fn presence(&mut self) -> Option<&mut Presence> {
        Some(&mut self.here)
    }
}

/// A second shared kind, for the lock order.
#[derive(Clone, Default, Debug, PartialEq, State)]
struct Chat {
    lines: List<String>,
}

impl SharedState for Chat {}

const JOIN: HandlerId<String> = HandlerId::new("join");
const JOIN_CHAT: HandlerId<()> = HandlerId::new("join_chat");
const LEAVE: HandlerId<()> = HandlerId::new("leave");
const ADD: HandlerId<String> = HandlerId::new("add");
const BOTH: HandlerId<()> = HandlerId::new("both");
const BOTH_IN_TASK: HandlerId<u32> = HandlerId::new("both_in_task");
const ADD_THEN_FAIL: HandlerId<()> = HandlerId::new("add_then_fail");
const OUT_OF_ORDER: HandlerId<()> = HandlerId::new("out_of_order");

/// The key is the server's: the room name becomes a key the handler
/// builds, as an app would from a login.
async fn join(mut cx: Cx<Counter>, room: String) -> anyhow::Result<()> {
    let label = format!("guest {}", cx.token().log_tag());
    cx.link::<Board>(&format!("room:{room}"), label).await?;
    Ok(())
}

async fn join_chat(mut cx: Cx<Counter>, (): ()) -> anyhow::Result<()> {
    cx.link::<Chat>("lobby", "guest").await?;
    Ok(())
}

async fn leave(mut cx: Cx<Counter>, (): ()) -> anyhow::Result<()> {
    cx.unlink::<Board>().await?;
    Ok(())
}

async fn add(mut cx: Cx<Counter>, tag: String) -> anyhow::Result<()> {
    let board = cx.shared::<Board>().await?;
    board.count += 1;
    board.log.push(tag);
    Ok(())
}

/// The session's own state and the shared one, in one section.
async fn both(mut cx: Cx<Counter>, (): ()) -> anyhow::Result<()> {
    cx.count += 1;
    cx.shared::<Board>().await?.count += 1;
    Ok(())
}

/// The same from a background task, one lock section per step.
async fn both_in_task(mut task: Task<Counter>, steps: u32) -> anyhow::Result<()> {
    for _ in 0..steps {
        let mut guard = task.lock().await;
        guard.count += 1;
        guard.shared::<Board>().await?.count += 1;
        drop(guard);
        tokio::task::yield_now().await;
    }
    Ok(())
}

async fn add_then_fail(mut cx: Cx<Counter>, (): ()) -> anyhow::Result<()> {
    cx.count += 1;
    cx.shared::<Board>().await?.count += 100;
    anyhow::bail!("changed my mind")
}

async fn out_of_order(mut cx: Cx<Counter>, (): ()) -> anyhow::Result<()> {
    cx.shared::<Chat>().await?.lines.push("first".to_owned());
    cx.shared::<Board>().await?.count += 1;
    Ok(())
}

fn shared_engine(config: Config) -> Engine {
    Engine::new(shared_app(), config)
}

fn shared_app() -> App {
    app()
        .on(JOIN, join)
        .on(JOIN_CHAT, join_chat)
        .on(LEAVE, leave)
        .on(ADD, add)
        .on(BOTH, both)
        .background(BOTH_IN_TASK, both_in_task)
        .on(ADD_THEN_FAIL, add_then_fail)
        .on(OUT_OF_ORDER, out_of_order)
}

async fn joined(engine: &Engine, room: &str) -> Client {
    let mut tab = Client::connect(engine.open().unwrap());
    tab.send(JOIN, room.to_owned());
    tab.settled::<Counter>().await;
    tab
}

#[tokio::test]
async fn two_sessions_on_one_key_interleave_and_both_copies_equal_the_shared_value() {
    let engine = shared_engine(config());
    let (mut ann, mut bob) = (joined(&engine, "a").await, joined(&engine, "a").await);
    for round in 0..100 {
        ann.send(ADD, format!("ann {round}"));
        bob.send(ADD, format!("bob {round}"));
    }
    ann.settled::<Counter>().await;
    bob.settled::<Counter>().await;
    let ann_board = ann.until(|board: &Board| board.count == 200).await;
    let bob_board = bob.until(|board: &Board| board.count == 200).await;
    assert_eq!(ann_board, bob_board);
    let log: Vec<_> = ann_board.log.iter().cloned().collect();
    for name in ["ann", "bob"] {
        let own: Vec<_> = log.iter().filter(|tag| tag.starts_with(name)).collect();
        let expected: Vec<_> = (0..100).map(|round| format!("{name} {round}")).collect();
        assert_eq!(
            own,
            expected.iter().collect::<Vec<_>>(),
            "{name}'s adds, once each, in order"
        );
    }
    assert_eq!(
        ann_board.here.len(),
        2,
        "both are here: {:?}",
        ann_board.here
    );
    assert_eq!(engine.shared_state_count(), 1);
}

#[tokio::test]
async fn another_key_is_another_state() {
    let engine = shared_engine(config());
    let (mut ann, mut bob) = (joined(&engine, "a").await, joined(&engine, "b").await);
    ann.send(ADD, "ann".to_owned());
    ann.until(|board: &Board| board.count == 1).await;
    bob.send(ADD, "bob".to_owned());
    let bob_board = bob.until(|board: &Board| board.count == 1).await;
    assert_eq!(bob_board.log.iter().collect::<Vec<_>>(), ["bob"]);
    assert_eq!(engine.shared_state_count(), 2);
}

/// Each of 50 sessions changes its own state and the shared one in one
/// section, from handlers and from a task at once: no deadlock, and every
/// count exact.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_sessions_write_their_own_and_the_shared_state_in_one_section() {
    let engine = shared_engine(config());
    let mut tabs = Vec::new();
    for _ in 0..50 {
        tabs.push(joined(&engine, "busy").await);
    }
    for tab in &mut tabs {
        tab.send(BOTH_IN_TASK, 10);
        for _ in 0..10 {
            tab.send(BOTH, ());
        }
    }
    let run = async {
        for tab in &mut tabs {
            let counter = tab.until(|counter: &Counter| counter.count == 20).await;
            assert_eq!(counter.count, 20);
        }
        for tab in &mut tabs {
            tab.until(|board: &Board| board.count == 1000).await;
        }
    };
    tokio::time::timeout(Duration::from_secs(60), run)
        .await
        .expect("no deadlock");
}

#[tokio::test]
async fn a_failed_handler_rolls_back_its_shared_changes_with_its_own() {
    let engine = shared_engine(config());
    let (mut ann, mut bob) = (joined(&engine, "a").await, joined(&engine, "a").await);
    ann.send(ADD_THEN_FAIL, ());
    ann.send(ADD, "after".to_owned());
    let board = ann.until(|board: &Board| board.count == 1).await;
    assert_eq!(board.log.iter().collect::<Vec<_>>(), ["after"]);
    assert_eq!(
        ann.settled::<Counter>().await.count,
        0,
        "its own change went too"
    );
    assert_eq!(ann.notices().len(), 1, "the tab is told");
    assert_eq!(bob.until(|board: &Board| board.count == 1).await, board);
}

#[tokio::test]
async fn a_section_takes_shared_states_in_order_or_is_told_why() {
    let (logs, _guard) = capture_logs();
    let engine = shared_engine(config());
    let mut tab = joined(&engine, "a").await;
    tab.send(JOIN_CHAT, ());
    tab.send(OUT_OF_ORDER, ());
    tab.settled::<Counter>().await;
    assert_eq!(tab.notices().len(), 1, "the tab is told");
    let log = logs.lines_with("out_of_order").join("\n");
    assert!(
        log.contains("`board/room:a` was asked for while holding `chat/lobby`")
            && log.contains("take `board/room:a` first"),
        "the log says what to do: {log}"
    );
    let chat: Chat = tab.document().state().unwrap();
    assert!(chat.lines.is_empty(), "the section rolled back: {chat:?}");
}

#[tokio::test]
async fn using_a_shared_state_without_linking_says_so() {
    let (logs, _guard) = capture_logs();
    let engine = shared_engine(config());
    let mut tab = Client::connect(engine.open().unwrap());
    tab.send(ADD, "nobody".to_owned());
    tab.settled::<Counter>().await;
    assert_eq!(tab.notices().len(), 1, "the tab is told");
    let log = logs.lines_with("add").join("\n");
    assert!(
        log.contains("not linked to a `board`; link it first (`Cx::link`)"),
        "{log}"
    );
}

#[tokio::test]
async fn presence_follows_links_and_open_tabs() {
    let engine = shared_engine(config());
    let (mut ann, bob) = (joined(&engine, "a").await, joined(&engine, "a").await);
    ann.until(|board: &Board| board.here.len() == 2).await;
    // Bob's tab closes: his session stays, but he is not here.
    let bob_session = bob.session.clone();
    drop(bob);
    bob_session.stream_closed();
    let board = ann.until(|board: &Board| board.here.len() == 1).await;
    assert!(board.here.members()[0].label.starts_with("guest "));
    // He comes back.
    let mut bob = Client::connect(bob_session);
    ann.until(|board: &Board| board.here.len() == 2).await;
    bob.send(LEAVE, ());
    bob.settled::<Counter>().await;
    ann.until(|board: &Board| board.here.len() == 1).await;
    assert!(
        bob.document().value().get("board").is_none(),
        "gone from his document"
    );
}

#[tokio::test]
async fn unlinking_and_expiry_free_the_shared_state() {
    let config = Config {
        idle_ttl: Duration::from_millis(200),
        ..config()
    };
    let engine = shared_engine(config);
    let mut ann = joined(&engine, "a").await;
    let bob = joined(&engine, "b").await;
    assert_eq!(engine.shared_state_count(), 2);
    ann.send(LEAVE, ());
    ann.settled::<Counter>().await;
    // Bob's session expires with no tab watching.
    let bob_session = bob.session.clone();
    drop(bob);
    bob_session.stream_closed();
    drop(bob_session);
    tokio::time::timeout(Duration::from_secs(30), async {
        while engine.shared_state_count() > 0 {
            engine.expire_idle();
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .expect("both shared states freed");
}

/// With the file store, a shared state outlives the process, and a
/// restarted server's first visitor finds it as it was, with nobody
/// present but them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shared_state_survives_a_restart_on_the_file_store() {
    let dir = tempfile::tempdir().unwrap();
    let file = Arc::new(FileStore::open(dir.path().join("sessions.redb")).unwrap());
    let first = Engine::with_store(shared_app(), config(), Arc::clone(&file) as Arc<dyn Store>);
    let mut ann = joined(&first, "kept").await;
    for tag in ["one", "two", "three"] {
        ann.send(ADD, tag.to_owned());
    }
    ann.until(|board: &Board| board.count == 3).await;
    drop(ann);
    first.close();
    first.drain(Duration::from_millis(200)).await;
    drop(first);

    let second = Engine::with_store(shared_app(), config(), file as Arc<dyn Store>);
    let mut bob = joined(&second, "kept").await;
    let board = bob.until(|board: &Board| board.count == 3).await;
    assert_eq!(
        board.log.iter().collect::<Vec<_>>(),
        ["one", "two", "three"]
    );
    assert_eq!(board.here.len(), 1, "only bob is here: {:?}", board.here);
}

/// On Redis, shared states are not shared across processes yet: the log
/// says so at the first link, rather than leave it to be found.
#[tokio::test]
async fn on_redis_the_first_link_says_shared_states_are_per_process() {
    let (logs, _guard) = capture_logs();
    let redis = RedisServer::start();
    let store = RedisStore::connect(&redis.url()).await.unwrap();
    let engine = Engine::with_redis(shared_app(), config(), store);
    let mut tab = joined(&engine, "a").await;
    tab.send(ADD, "works in this process".to_owned());
    tab.until(|board: &Board| board.count == 1).await;
    let warnings = logs.lines_with("held per process");
    assert_eq!(warnings.len(), 1, "{}", logs.text());
}
