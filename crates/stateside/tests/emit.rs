//! Events the server raises (issue 16, item 9): `Engine::emit` runs a
//! handler in a session from outside any handler, a webhook or a timer,
//! under the session's lock and in order with its tab's events; its change
//! streams to the tab like any other. Through Redis, it reaches the owner
//! from any instance.

mod support;

use std::{sync::Mutex, time::Duration};

use stateside::{Cx, EmitError, Engine, Error, HandlerId, RedisStore, SessionToken};
use support::{redis_server::RedisServer, *};

const NOT_A_HANDLER: HandlerId<()> = HandlerId::new("no_such_handler");
const SUBSCRIBE: HandlerId<()> = HandlerId::new("subscribe");

/// Where a handler leaves its session's token for a webhook to use later.
static SUBSCRIBED: Mutex<Vec<SessionToken>> = Mutex::new(Vec::new());

async fn subscribe(cx: Cx<Counter>, (): ()) -> anyhow::Result<()> {
    SUBSCRIBED.lock().unwrap().push(cx.token());
    Ok(())
}

#[tokio::test]
async fn a_handler_knows_its_token_for_a_webhook_to_reach_it_later() {
    let engine = Engine::new(app().on(SUBSCRIBE, subscribe), config());
    let mut tab = Client::connect(engine.open().unwrap());
    tab.send(SUBSCRIBE, ());
    tab.settled::<Counter>().await;
    let token = SUBSCRIBED.lock().unwrap().pop().unwrap();
    assert_eq!(token, tab.session.token());
    engine.emit(&token, INCREMENT, &()).await.unwrap();
    tab.until(|counter: &Counter| counter.count == 1).await;
}

#[tokio::test]
async fn an_emitted_event_runs_in_order_and_reaches_the_tab() {
    let engine = engine();
    let mut tab = Client::connect(engine.open().unwrap());
    let token = tab.session.token();
    tab.send(SLOW_RECORD, ("tab".to_owned(), 50));
    engine
        .emit(&token, RECORD, &"webhook".to_owned())
        .await
        .unwrap();
    tab.send(RECORD, "after".to_owned());
    let counter: Counter = tab.settled().await;
    assert_eq!(counter.log, ["start:tab", "end:tab", "webhook", "after"]);
}

/// Only server code runs an internal handler: a webhook may, a tab not.
#[tokio::test]
async fn server_code_may_emit_an_internal_handler_a_tab_cannot_call() {
    const WEBHOOK_ONLY: HandlerId<String> = HandlerId::new("webhook_only");
    let app = app().internal(
        WEBHOOK_ONLY,
        |mut cx: Cx<Counter>, text: String| async move {
            cx.log.push(text);
            Ok(())
        },
    );
    let engine = Engine::new(app, config());
    let mut tab = Client::connect(engine.open().unwrap());
    let mut forged = WEBHOOK_ONLY.call(&"from the tab".to_owned()).unwrap();
    forged.seq = tab.session.next_seq();
    assert!(matches!(
        tab.session.submit(forged),
        Err(Error::UnknownHandler(_))
    ));
    let token = tab.session.token();
    engine
        .emit(&token, WEBHOOK_ONLY, &"from the webhook".to_owned())
        .await
        .unwrap();
    let counter = tab.until(|counter: &Counter| !counter.log.is_empty()).await;
    assert_eq!(counter.log, ["from the webhook"]);
}

#[tokio::test]
async fn an_emitted_background_handler_starts_a_task() {
    let engine = engine();
    let mut tab = Client::connect(engine.open().unwrap());
    let token = tab.session.token();
    engine.emit(&token, LOCKED_INCREMENTS, &25).await.unwrap();
    tab.until(|counter: &Counter| counter.count == 25).await;
}

#[tokio::test]
async fn a_bad_emit_is_refused_to_its_caller() {
    let engine = engine();
    let session = engine.open().unwrap();
    let unknown = SessionToken::random();
    assert!(matches!(
        engine.emit(&unknown, INCREMENT, &()).await,
        Err(EmitError::NoSession)
    ));
    assert!(matches!(
        engine.emit(&session.token(), NOT_A_HANDLER, &()).await,
        Err(EmitError::Refused(Error::UnknownHandler(_)))
    ));
    engine.close();
    assert_eq!(
        session.emit(INCREMENT, &()),
        Err(Error::ShuttingDown),
        "nothing new runs once the engine closes"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_event_emitted_on_another_instance_reaches_the_owner() {
    let redis = RedisServer::start();
    let instance = || async {
        let store = RedisStore::connect(&redis.url()).await.unwrap();
        Engine::with_redis(app(), config(), store.with_lease(Duration::from_secs(5)))
    };
    let owner = instance().await;
    let mut tab = Client::connect(owner.open().unwrap());
    tab.send(RECORD, "from the tab".to_owned());
    tab.settled::<Counter>().await;
    let token = tab.session.token();

    let other = instance().await;
    other
        .emit(&token, RECORD, &"from the other instance".to_owned())
        .await
        .unwrap();
    let counter = tab.until(|counter: &Counter| counter.log.len() == 2).await;
    assert_eq!(counter.log, ["from the tab", "from the other instance"]);
}
