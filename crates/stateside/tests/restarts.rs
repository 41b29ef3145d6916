//! Tasks across restarts: a session restored from a store (after a
//! graceful restart, a crash, or a Redis takeover) brings back the tasks its
//! record lists as running. A restartable task runs again, under its old
//! id, from where the state stands; any other runs its `on_lost` hook and
//! the tab is told it stopped. The app's `on_restore` hooks run once per
//! restore. Nothing is left looking as if it ran.

mod support;

use std::{sync::Arc, sync::mpsc, time::Duration};

use stateside::{
    App, Cx, Engine, FileStore, HandlerId, RedisStore, SessionHandle, SessionToken, Store, Task,
    TaskId,
};
use stateside_wire::NoticeKind;
use support::{redis_server::RedisServer, *};

/// Counts up to its target, a step every 10 ms, from what the state says:
/// restartable, as it resumes where it stands.
const COUNT_UP: HandlerId<i64> = HandlerId::new("count_up");
/// Logs `spinning:tag`, then runs until cancelled; not restartable.
const SPIN: HandlerId<String> = HandlerId::new("spin");

async fn count_up(mut task: Task<Counter>, target: i64) -> anyhow::Result<()> {
    loop {
        tokio::time::sleep(Duration::from_millis(10)).await;
        let mut counter = task.lock().await;
        if counter.count >= target {
            return Ok(());
        }
        counter.count += 1;
    }
}

async fn spin(mut task: Task<Counter>, tag: String) -> anyhow::Result<()> {
    task.lock().await.log.push(format!("spinning:{tag}"));
    std::future::pending().await
}

/// What the page would do for a lost spin: say so in the state.
async fn spin_lost(mut cx: Cx<Counter>, tag: String) -> anyhow::Result<()> {
    cx.log.push(format!("lost:{tag}"));
    Ok(())
}

/// Runs once per restore.
async fn note_restore(mut cx: Cx<Counter>) -> anyhow::Result<()> {
    cx.log.push("restored".to_owned());
    Ok(())
}

fn tasks_app() -> App {
    app()
        .background_restartable(COUNT_UP, count_up)
        .background(SPIN, spin)
        .on_lost(SPIN, spin_lost)
        .on_restore(note_restore)
}

fn file_engine(file: &Arc<FileStore>) -> Engine {
    Engine::with_store(tasks_app(), config(), Arc::clone(file) as Arc<dyn Store>)
}

/// A graceful stop, as on SIGTERM: tasks still running after a short grace
/// are stopped, and the store gets everything.
async fn shut_down(engine: Engine) {
    engine.close();
    engine.drain(Duration::from_millis(200)).await;
}

async fn restored(engine: &Engine, token: &SessionToken) -> SessionHandle {
    engine.resume(token).await.unwrap().expect("restored")
}

fn handlers(session: &SessionHandle) -> Vec<(TaskId, &'static str)> {
    let tasks = session.tasks().into_iter();
    tasks.map(|task| (task.id, task.handler)).collect()
}

fn stopped_notices(client: &Client) -> Vec<String> {
    let notices = client.notices().into_iter();
    notices
        .filter(|notice| notice.kind == NoticeKind::Stopped)
        .map(|notice| notice.handler)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restartable_task_runs_again_under_its_id_after_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let file = Arc::new(FileStore::open(dir.path().join("sessions.redb")).unwrap());
    let before = file_engine(&file);
    let mut tab = Client::connect(before.open().unwrap());
    let token = tab.session.token();
    tab.send(COUNT_UP, 1_000_000);
    tab.until(|c: &Counter| c.count >= 3).await;
    let running = handlers(&tab.session);
    assert_eq!(running.len(), 1);
    shut_down(before).await;

    let after = file_engine(&file);
    let session = restored(&after, &token).await;
    assert_eq!(handlers(&session), running, "the same task, under its id");
    let counted = session.read(|c: &Counter| c.count).await;
    let mut tab = Client::connect(session.clone());
    tab.until(|c: &Counter| c.count >= counted + 3).await;
    assert!(stopped_notices(&tab).is_empty(), "nothing was lost");

    // Cancelled for good, it stays stopped through the next restart.
    assert!(session.cancel(running[0].0));
    tab.quiesce::<Counter>().await;
    let counted = session.read(|c: &Counter| c.count).await;
    drop(tab);
    shut_down(after).await;
    let again = file_engine(&file);
    let session = restored(&again, &token).await;
    assert!(session.tasks().is_empty());
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(session.read(|c: &Counter| c.count).await, counted);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_task_runs_its_hook_once_and_the_tab_is_told() {
    let dir = tempfile::tempdir().unwrap();
    let file = Arc::new(FileStore::open(dir.path().join("sessions.redb")).unwrap());
    let before = file_engine(&file);
    let mut tab = Client::connect(before.open().unwrap());
    let token = tab.session.token();
    tab.send(SPIN, "a".to_owned());
    // No hook: only the notice.
    tab.send(SLEEP_THEN_RECORD, ("never".to_owned(), 600_000));
    tab.until(|c: &Counter| c.log.contains(&"spinning:a".to_owned()))
        .await;
    tab.settled::<Counter>().await;
    drop(tab);
    shut_down(before).await;

    let after = file_engine(&file);
    let session = restored(&after, &token).await;
    // The tab comes back after the restore: the notices waited for it.
    let mut tab = Client::connect(session.clone());
    let counter = tab
        .until(|c: &Counter| c.log.contains(&"lost:a".to_owned()))
        .await;
    assert_eq!(counter.log, ["spinning:a", "restored", "lost:a"]);
    let mut told = stopped_notices(&tab);
    told.sort();
    assert_eq!(told, ["sleep_then_record", "spin"]);
    tab.quiesce::<Counter>().await;
    drop(tab);

    // Told once: the record no longer lists them.
    shut_down(after).await;
    let again = file_engine(&file);
    let mut tab = Client::connect(restored(&again, &token).await);
    tab.until(|c: &Counter| c.log.len() == 4).await;
    assert_eq!(
        tab.quiesce::<Counter>().await.log,
        ["spinning:a", "restored", "lost:a", "restored"]
    );
    assert!(stopped_notices(&tab).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_task_that_ended_is_not_brought_back() {
    let dir = tempfile::tempdir().unwrap();
    let file = Arc::new(FileStore::open(dir.path().join("sessions.redb")).unwrap());
    let before = file_engine(&file);
    let mut tab = Client::connect(before.open().unwrap());
    let token = tab.session.token();
    tab.send(COUNT_UP, 3);
    tab.send(SLEEP_THEN_RECORD, ("done".to_owned(), 10));
    assert_eq!(tab.quiesce::<Counter>().await.count, 3);
    drop(tab);
    shut_down(before).await;

    let after = file_engine(&file);
    let session = restored(&after, &token).await;
    assert!(session.tasks().is_empty());
    let mut tab = Client::connect(session);
    let counter = tab.until(|c: &Counter| c.log.len() == 2).await;
    assert_eq!(counter.log, ["done", "restored"]);
    assert_eq!(tab.quiesce::<Counter>().await.count, 3);
    assert!(tab.notices().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restartable_task_moves_to_the_instance_that_takes_over_from_a_crash() {
    let redis = RedisServer::start();
    let lease = Duration::from_millis(300);
    let instance = |redis: &RedisServer| {
        let url = redis.url();
        async move {
            let store = RedisStore::connect(&url).await.unwrap().with_lease(lease);
            Engine::with_redis(tasks_app(), config(), store)
        }
    };
    // Instance A on its own runtime, which is dropped without a shutdown:
    // a crash. Its lease runs out; B takes the session over.
    let (to_test, from_a) = mpsc::channel();
    let (crash_a, crashed) = tokio::sync::oneshot::channel::<()>();
    let url = redis.url();
    let a = std::thread::spawn(move || {
        let runtime = tokio::runtime::Runtime::new().unwrap();
        runtime.block_on(async move {
            let store = RedisStore::connect(&url).await.unwrap().with_lease(lease);
            let a = Engine::with_redis(tasks_app(), config(), store);
            let mut tab = Client::connect(a.open().unwrap());
            tab.send(COUNT_UP, 1_000_000);
            tab.send(SPIN, "on a".to_owned());
            tab.until(|c: &Counter| c.count >= 3).await;
            tab.settled::<Counter>().await;
            to_test
                .send((tab.session.token(), handlers(&tab.session)))
                .unwrap();
            crashed.await.ok();
        });
    });
    let (token, running) = from_a.recv().unwrap();
    crash_a.send(()).unwrap();
    a.join().unwrap();

    redis.until_unowned(&token).await;
    let b = instance(&redis).await;
    let session = restored(&b, &token).await;
    let count_up = running.iter().find(|(_, handler)| *handler == "count_up");
    assert_eq!(handlers(&session), [*count_up.unwrap()]);
    let counted = session.read(|c: &Counter| c.count).await;
    let mut tab = Client::connect(session);
    let counter = tab
        .until(|c: &Counter| c.count >= counted + 3 && c.log.contains(&"lost:on a".to_owned()))
        .await;
    assert!(counter.count > counted, "counting went on, on B");
    assert_eq!(stopped_notices(&tab), ["spin"]);
}
