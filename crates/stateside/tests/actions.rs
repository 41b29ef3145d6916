//! Client actions are vetted when a handler sends one (issue 14, item 7):
//! a `Redirect` or `Download` to anything but an http(s) or relative URL,
//! or a `RunScript` in an app that did not turn scripts on, is an error in
//! the handler, so nothing of it reaches the tab; and an internal handler
//! is for server code only.

mod support;

use stateside::{Action, ActionRefused, App, Cx, Engine, HandlerId, transport::ServerMessage};
use support::*;

const SEND: HandlerId<Action> = HandlerId::new("send_action");
const CHAIN: HandlerId<()> = HandlerId::new("chain");
const STEP: HandlerId<()> = HandlerId::new("step");

/// Counts, then sends `action`; a refusal fails the handler, which rolls
/// the count back.
async fn send_action(mut cx: Cx<Counter>, action: Action) -> anyhow::Result<()> {
    cx.count += 1;
    cx.action(action)?;
    Ok(())
}

async fn chain(mut cx: Cx<Counter>, (): ()) -> anyhow::Result<()> {
    cx.emit(STEP, &())?;
    Ok(())
}

async fn step(mut cx: Cx<Counter>, (): ()) -> anyhow::Result<()> {
    cx.log.push("step".to_owned());
    Ok(())
}

fn engine_of(app: App) -> Engine {
    Engine::new(
        app.on(SEND, send_action)
            .on(CHAIN, chain)
            .internal(STEP, step),
        config(),
    )
}

fn sent_actions(client: &Client) -> Vec<Action> {
    client
        .received
        .iter()
        .filter_map(|message| match &**message {
            ServerMessage::Update(update) => Some(update.actions.clone()),
            ServerMessage::Snapshot { .. } => None,
        })
        .flatten()
        .collect()
}

#[tokio::test(start_paused = true)]
async fn only_web_urls_and_allowed_scripts_reach_the_tab() {
    let (logs, _guard) = capture_logs();
    let engine = engine_of(App::new());
    assert!(!engine.app().runs_scripts());
    let mut client = Client::connect(engine.open().unwrap());
    let fine = Action::Redirect {
        to: "/next?x=1".to_owned(),
    };
    client.send(SEND, fine.clone());
    for refused in [
        Action::Redirect {
            to: " JavaScript:alert(1)".to_owned(),
        },
        Action::Download {
            url: "data:text/html,<script>alert(1)</script>".to_owned(),
            filename: "x.html".to_owned(),
        },
        Action::run_script("alert(1)"),
    ] {
        client.send(SEND, refused);
    }
    let counter: Counter = client.quiesce().await;
    assert_eq!(counter.count, 1, "each refused action failed its handler");
    assert_eq!(sent_actions(&client), [fine]);
    assert_eq!(client.notices().len(), 3);
    for (needle, error) in [
        ("JavaScript:alert(1)", "only http(s) and relative URLs"),
        ("data:text/html", "only http(s) and relative URLs"),
        ("RunScript is off", "App::run_scripts()"),
    ] {
        let lines = logs.lines_with(needle);
        assert!(
            lines.iter().any(|line| line.contains(error)),
            "{}",
            logs.text()
        );
    }
    // The error itself, for a handler that wants to handle it.
    assert_eq!(
        ActionRefused::ScriptsOff.to_string(),
        "RunScript is off in this app; turn it on with `App::run_scripts()`"
    );
}

#[tokio::test(start_paused = true)]
async fn an_app_that_runs_scripts_sends_them() {
    let engine = engine_of(App::new().run_scripts());
    assert!(engine.app().runs_scripts());
    let mut client = Client::connect(engine.open().unwrap());
    let script = Action::run_script("console.log(1)");
    client.send(SEND, script.clone());
    let counter: Counter = client.quiesce().await;
    assert_eq!(counter.count, 1);
    assert_eq!(sent_actions(&client), [script]);
}

#[tokio::test(start_paused = true)]
async fn an_internal_handler_runs_when_chained_and_never_for_a_client() {
    let engine = engine_of(App::new());
    let mut client = Client::connect(engine.open().unwrap());
    client.send(CHAIN, ());
    let counter: Counter = client.quiesce().await;
    assert_eq!(counter.log, ["step"], "a handler chains to it");
    // A client naming it is refused as for a name that does not exist,
    // and its session does not move.
    let session = engine.open().unwrap();
    let mut event = STEP.call(&()).unwrap();
    event.seq = 1;
    let refused = session.submit(event);
    assert!(
        matches!(&refused, Err(stateside::Error::UnknownHandler(name)) if name == "step"),
        "{refused:?}"
    );
    let untouched = session.read(|counter: &Counter| counter.clone()).await;
    assert_eq!(untouched, Counter::default());
}
