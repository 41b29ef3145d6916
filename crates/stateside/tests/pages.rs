//! Page events (issue 16, item 1): `on_load` hooks run when a tab loads a
//! page or navigates to it, `on_unload` hooks when it leaves one; a hook
//! reads the path, params and query with `Cx::page`, in order with the
//! tab's other events; the page survives a restart; a client cannot move
//! the page past the checks or call the engine's internal step.

mod support;

use std::{sync::Arc, time::Duration};

use serde_json::json;
use stateside::transport::ClientEvent;
use stateside::{App, Cx, Engine, FileStore, HandlerId, Store};
use stateside_wire::{NAVIGATE, Navigation};
use support::*;

const LOAD_NOTE: HandlerId<()> = HandlerId::new("load_note");
const LEAVE_NOTE: HandlerId<()> = HandlerId::new("leave_note");
const LOAD_HOME: HandlerId<()> = HandlerId::new("load_home");

/// Logs what each hook saw.
async fn load_note(mut cx: Cx<Counter>, (): ()) -> anyhow::Result<()> {
    let page = cx.page();
    let seen = format!(
        "load {} id={} tab={}",
        page.path(),
        page.param("id").unwrap_or("-"),
        page.query("tab").unwrap_or("-")
    );
    cx.log.push(seen);
    Ok(())
}

async fn leave_note(mut cx: Cx<Counter>, (): ()) -> anyhow::Result<()> {
    let seen = format!("leave {}", cx.page().path());
    cx.log.push(seen);
    Ok(())
}

async fn load_home(mut cx: Cx<Counter>, (): ()) -> anyhow::Result<()> {
    cx.log.push("load /".to_owned());
    Ok(())
}

fn pages_app() -> App {
    app()
        .on(LOAD_NOTE, load_note)
        .on(LEAVE_NOTE, leave_note)
        .on(LOAD_HOME, load_home)
        .on_load("/notes/:id", LOAD_NOTE)
        .on_unload("/notes/:id", LEAVE_NOTE)
        .on_load("/", LOAD_HOME)
}

fn go(path: &str, query: &str, load: bool) -> Navigation {
    Navigation {
        path: path.to_owned(),
        query: query.to_owned(),
        load,
    }
}

#[tokio::test]
async fn hooks_run_on_load_and_navigation_in_order_with_events() {
    let engine = Engine::new(pages_app(), config());
    let mut tab = Client::connect(engine.open().unwrap());
    tab.send(NAVIGATE, go("/notes/7", "tab=edit&x=1", true));
    tab.send(RECORD, "clicked".to_owned());
    // The same page again, without a load: nothing to do.
    tab.send(NAVIGATE, go("/notes/7", "", false));
    tab.send(NAVIGATE, go("/", "", false));
    // A reload of the same page runs its hook again.
    tab.send(NAVIGATE, go("/", "", true));
    let counter: Counter = tab.quiesce().await;
    assert!(tab.notices().is_empty(), "{:?}", tab.notices());
    assert_eq!(
        counter.log,
        [
            "load /notes/7 id=7 tab=edit",
            "clicked",
            "leave /notes/7",
            "load /",
            "load /",
        ]
    );
    assert!(tab.notices().is_empty(), "{:?}", tab.notices());
}

#[tokio::test]
async fn a_tab_cannot_skip_the_checks_or_call_the_internal_step() {
    let engine = Engine::new(pages_app(), config());
    let mut tab = Client::connect(engine.open().unwrap());
    let submit = |handler: &str, args: serde_json::Value| {
        let event = ClientEvent {
            seq: tab.session.next_seq(),
            handler: handler.to_owned(),
            args,
        };
        tab.session.submit(event).unwrap_err().to_string()
    };
    let relative = submit(
        "stateside/navigate",
        json!({ "path": "notes/7", "load": true }),
    );
    assert!(
        relative.contains("a page's path starts with /"),
        "{relative}"
    );
    let long = submit(
        "stateside/navigate",
        json!({ "path": format!("/{}", "a".repeat(3000)) }),
    );
    assert!(long.contains("at most 2048 bytes"), "{long}");
    let internal = submit(
        "stateside/arrive",
        json!({ "navigation": { "path": "/notes/1" }, "load": true }),
    );
    assert_eq!(internal, "unknown handler `stateside/arrive`");
    let counter: Counter = tab.quiesce().await;
    assert!(counter.log.is_empty(), "{:?}", counter.log);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_page_survives_a_restart_without_running_its_hook_again() {
    let dir = tempfile::tempdir().unwrap();
    let file = Arc::new(FileStore::open(dir.path().join("sessions.redb")).unwrap());
    let open = || Engine::with_store(pages_app(), config(), Arc::clone(&file) as Arc<dyn Store>);
    let before = open();
    let mut tab = Client::connect(before.open().unwrap());
    let token = tab.session.token();
    tab.send(NAVIGATE, go("/notes/9", "tab=view", true));
    tab.quiesce::<Counter>().await;
    drop(tab);
    before.close();
    before.drain(Duration::from_millis(200)).await;

    let after = open();
    let session = after.resume(&token).await.unwrap().expect("restored");
    let mut tab = Client::connect(session);
    // A reconnect sends no navigation; the next navigation leaves the
    // restored page, so its unload hook sees it.
    tab.send(NAVIGATE, go("/", "", false));
    let counter: Counter = tab.settled().await;
    assert_eq!(
        counter.log,
        ["load /notes/9 id=9 tab=view", "leave /notes/9", "load /"]
    );
    let document = tab.document().value().as_object().unwrap();
    let states: Vec<_> = document.keys().collect();
    assert_eq!(states, ["counter"], "the page is stored, never sent");
}
