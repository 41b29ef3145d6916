//! The login guard (issue 16, item 3): `App::protect` refuses a handler, a
//! task or an `on_load` hook to a session nobody is logged in to, with a
//! notice that says so; `Cx::user` names the user from the request behind
//! the tab's connection, never from the tab's arguments; a login revoked
//! between an event's arrival and its turn counts.

mod support;

use std::{
    collections::HashSet,
    sync::{Arc, LazyLock, Mutex},
};

use stateside::{
    App, Authenticator, Cx, Engine, HandlerId, LoginRequired, RequestContext, Task, UserId,
    transport::Notice,
};
use stateside_wire::{NAVIGATE, Navigation, NoticeKind};
use support::*;
use tokio::sync::Notify;

/// Runs only for a logged-in tab, and records who it was.
const WHO: HandlerId<()> = HandlerId::new("who");
/// Not protected: asks `Cx::user` itself.
const MAYBE: HandlerId<()> = HandlerId::new("maybe");
/// A protected background task.
const TASK: HandlerId<()> = HandlerId::new("task");
/// A protected page's hook.
const LOAD_PRIVATE: HandlerId<()> = HandlerId::new("load_private");
/// Holds the queue until the test opens [`GATE`].
const HOLD: HandlerId<()> = HandlerId::new("hold");

static GATE: LazyLock<Notify> = LazyLock::new(Notify::new);

/// The live logins, by the cookie's value: what a real app keeps too.
#[derive(Clone, Default)]
struct Logins(Arc<Mutex<HashSet<String>>>);

impl Authenticator for Logins {
    fn user(&self, request: &RequestContext) -> Option<UserId> {
        let login = request.cookie("login")?;
        let live = self.0.lock().unwrap().contains(login);
        live.then(|| UserId::new(login.trim_start_matches("login-of-")))
    }
}

async fn who(mut cx: Cx<Counter>, (): ()) -> anyhow::Result<()> {
    let user = cx.user()?;
    cx.log.push(format!("who {user}"));
    Ok(())
}

async fn maybe(mut cx: Cx<Counter>, (): ()) -> anyhow::Result<()> {
    cx.log.push("maybe".to_owned());
    cx.user()?;
    cx.log.push("maybe: logged in".to_owned());
    Ok(())
}

async fn task(mut task: Task<Counter>, (): ()) -> anyhow::Result<()> {
    let user = task.user()?;
    task.lock().await.log.push(format!("task {user}"));
    Ok(())
}

async fn hold(mut cx: Cx<Counter>, (): ()) -> anyhow::Result<()> {
    cx.log.push("holding".to_owned());
    cx.flush();
    GATE.notified().await;
    Ok(())
}

async fn load_private(mut cx: Cx<Counter>, (): ()) -> anyhow::Result<()> {
    cx.log.push("private page".to_owned());
    Ok(())
}

fn login_app(logins: &Logins) -> App {
    app()
        .authenticate(logins.clone())
        .on(WHO, who)
        .protect(WHO)
        .on(MAYBE, maybe)
        .background(TASK, task)
        .protect(TASK)
        .on(LOAD_PRIVATE, load_private)
        .on_load("/private", LOAD_PRIVATE)
        .protect(LOAD_PRIVATE)
        .on(HOLD, hold)
}

fn with_login(login: &str) -> RequestContext {
    RequestContext::new(None).with_cookie("login", login)
}

fn refusals(tab: &Client) -> Vec<Notice> {
    tab.notices()
        .into_iter()
        .filter(|notice| notice.kind == NoticeKind::Refused)
        .collect()
}

#[tokio::test]
async fn an_anonymous_session_is_refused_with_a_notice_and_nothing_runs() {
    let logins = Logins::default();
    let engine = Engine::new(login_app(&logins), config());
    let mut tab = Client::connect(engine.open().unwrap());
    tab.send(WHO, ());
    tab.send(TASK, ());
    tab.send(
        NAVIGATE,
        Navigation {
            path: "/private".to_owned(),
            query: String::new(),
            load: true,
        },
    );
    tab.send(MAYBE, ());
    let counter: Counter = tab.quiesce().await;
    assert!(counter.log.is_empty(), "rolled back: {:?}", counter.log);
    let refused = refusals(&tab);
    // A task starts as its event arrives, so its refusal may come first.
    let mut handlers: Vec<_> = refused
        .iter()
        .map(|notice| notice.handler.as_str())
        .collect();
    handlers.sort_unstable();
    assert_eq!(handlers, ["load_private", "maybe", "task", "who"]);
    for notice in &refused {
        assert_eq!(notice.message, LoginRequired.to_string());
        assert_eq!(
            notice.to_string(),
            format!("{} refused: you need to log in to do that", notice.handler)
        );
    }
    assert_eq!(tab.notices().len(), refused.len(), "no other failure");
}

#[tokio::test]
async fn the_user_comes_from_the_request_and_a_forged_login_is_nobody() {
    let logins = Logins::default();
    logins.0.lock().unwrap().insert("login-of-ada".to_owned());
    let engine = Engine::new(login_app(&logins), config());
    let mut tab = Client::connect(engine.open().unwrap());
    tab.session.connected(with_login("login-of-eve"));
    tab.send(WHO, ());
    tab.quiesce::<Counter>().await;
    assert_eq!(refusals(&tab).len(), 1, "a login the app never made");

    tab.session.connected(with_login("login-of-ada"));
    tab.send(WHO, ());
    tab.send(TASK, ());
    tab.send(MAYBE, ());
    let mut log = tab.quiesce::<Counter>().await.log;
    // The task runs beside the queue: its line may come anywhere.
    log.sort_unstable();
    assert_eq!(log, ["maybe", "maybe: logged in", "task ada", "who ada"]);
    assert_eq!(refusals(&tab).len(), 1);
}

#[tokio::test]
async fn a_login_revoked_while_an_event_waits_refuses_it_when_it_runs() {
    let logins = Logins::default();
    logins.0.lock().unwrap().insert("login-of-ada".to_owned());
    let engine = Engine::new(login_app(&logins), config());
    let mut tab = Client::connect(engine.open().unwrap());
    tab.session.connected(with_login("login-of-ada"));
    // WHO arrives while the login is live, and waits behind HOLD while it
    // is revoked.
    tab.send(HOLD, ());
    tab.send(WHO, ());
    tab.until(|counter: &Counter| !counter.log.is_empty()).await;
    logins.0.lock().unwrap().clear();
    GATE.notify_one();
    let counter: Counter = tab.quiesce().await;
    assert_eq!(counter.log, ["holding"]);
    assert_eq!(refusals(&tab).len(), 1);
}
