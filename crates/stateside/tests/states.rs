//! Several states per session: each page has its own state struct, and a
//! handler reaches any other state of its session under the same lock
//! (Reflex's `get_state`). Reflex's `test_get_state`, from a task and from
//! the foreground: 1, tripled to 3, then +1 and tripled to 12, then a plain
//! increment gives 13.

mod support;

use serde::{Deserialize, Serialize, Serializer, ser::Error as _};
use stateside::{Cx, Engine, HandlerId, State, StateMap, Task, transport::ServerMessage};
use stateside_wire::PatchOperation;
use support::*;

/// Reflex's `OtherState`: it has no fields of its own here, only handlers.
#[derive(Clone, Default, Debug, PartialEq, Serialize, Deserialize)]
struct Other {
    visits: u32,
}

impl State for Other {
    const NAME: &'static str = "other";
}

/// Reflex's `ThirdState`.
#[derive(Clone, Default, Debug, PartialEq, Serialize, Deserialize)]
struct Third {
    tripled: u32,
}

impl State for Third {
    const NAME: &'static str = "third";
}

const GET_OTHER_STATE: HandlerId<()> = HandlerId::new("get_other_state");
const GET_OTHER_STATE_FOREGROUND: HandlerId<()> = HandlerId::new("get_other_state_foreground");
const VISIT: HandlerId<()> = HandlerId::new("visit");
const TOUCH_FRAGILE: HandlerId<()> = HandlerId::new("touch_fragile");
const POISON: HandlerId<()> = HandlerId::new("poison");

/// A state that refuses to serialise once poisoned.
#[derive(Clone, Default, Debug, PartialEq, Deserialize)]
struct Fragile {
    touched: u32,
    #[serde(skip)]
    poisoned: bool,
}

impl Serialize for Fragile {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if self.poisoned {
            return Err(S::Error::custom("poisoned"));
        }
        #[derive(Serialize)]
        struct Plain {
            touched: u32,
        }
        Plain {
            touched: self.touched,
        }
        .serialize(serializer)
    }
}

impl State for Fragile {
    const NAME: &'static str = "fragile";
}

async fn touch_fragile(mut cx: Cx<Fragile>, (): ()) -> anyhow::Result<()> {
    cx.touched += 1;
    Ok(())
}

/// Changes the counter first, then poisons the fragile state.
async fn poison(mut cx: Cx<Counter>, (): ()) -> anyhow::Result<()> {
    cx.count += 100;
    cx.state_mut::<Fragile>().poisoned = true;
    Ok(())
}

/// `ThirdState._triple_count`: reaches the counter from a third state.
fn triple_count(states: &mut StateMap) {
    states.get_mut::<Third>().tripled += 1;
    states.get_mut::<Counter>().count *= 3;
}

async fn get_other_state(mut task: Task<Other>, (): ()) -> anyhow::Result<()> {
    {
        let mut other = task.lock().await;
        other.visits += 1;
        other.state_mut::<Counter>().count += 1;
        triple_count(other.states());
    }
    // Outside the guard there is no way to the state at all: Reflex's
    // `ImmutableStateError` cases do not compile here.
    let mut other = task.lock().await;
    other.state_mut::<Counter>().count += 1;
    triple_count(other.states());
    Ok(())
}

async fn get_other_state_foreground(mut cx: Cx<Other>, (): ()) -> anyhow::Result<()> {
    cx.visits += 1;
    cx.state_mut::<Counter>().count += 1;
    triple_count(cx.states());
    cx.flush();
    cx.state_mut::<Counter>().count += 1;
    triple_count(cx.states());
    Ok(())
}

async fn visit(mut cx: Cx<Other>, (): ()) -> anyhow::Result<()> {
    cx.visits += 1;
    Ok(())
}

fn states_engine() -> Engine {
    let app = app()
        .background(GET_OTHER_STATE, get_other_state)
        .on(GET_OTHER_STATE_FOREGROUND, get_other_state_foreground)
        .on(VISIT, visit)
        .on(TOUCH_FRAGILE, touch_fragile)
        .on(POISON, poison);
    Engine::new(app, config())
}

async fn get_state(handler: HandlerId<()>) {
    let engine = states_engine();
    let mut client = Client::connect(engine.open().unwrap());
    client.send(handler, ());
    let counter: Counter = client.quiesce().await;
    assert_eq!(counter.count, 12);
    client.send(INCREMENT, ());
    let counter: Counter = client.quiesce().await;
    assert_eq!(counter.count, 13);
    let other: Other = client.document().state().unwrap();
    assert_eq!(other.visits, 1);
    let third: Third = client.document().state().unwrap();
    assert_eq!(third.tripled, 2);
    assert_eq!(
        client.session.read(|third: &Third| third.clone()).await,
        third
    );
}

#[tokio::test(start_paused = true)]
async fn a_task_reaches_other_states_under_its_guard() {
    get_state(GET_OTHER_STATE).await;
}

#[tokio::test(start_paused = true)]
async fn a_foreground_handler_reaches_other_states() {
    get_state(GET_OTHER_STATE_FOREGROUND).await;
}

#[tokio::test(start_paused = true)]
async fn each_patch_touches_only_the_states_that_changed() {
    let engine = states_engine();
    let mut client = Client::connect(engine.open().unwrap());
    client.send(INCREMENT, ());
    client.send(VISIT, ());
    client.send(VISIT, ());
    client.send(RECORD, "x".to_owned());
    client.quiesce::<Counter>().await;
    let touched: Vec<Vec<String>> = client
        .received
        .iter()
        .filter_map(|message| match &**message {
            ServerMessage::Update(update) if !update.ops.is_empty() => Some(&update.ops),
            _ => None,
        })
        .map(|ops| ops.iter().map(top_level).collect())
        .collect();
    assert_eq!(
        touched,
        [
            vec!["counter"],
            vec!["other"],
            vec!["other"],
            vec!["counter"]
        ]
    );
    assert_eq!(
        client.document().value(),
        &serde_json::json!({
            "counter": {"count": 1, "log": ["x"]},
            "other": {"visits": 2},
        })
    );
}

/// The state an op changes: the first segment of its path.
fn top_level(op: &PatchOperation) -> String {
    let path = serde_json::to_value(op).unwrap()["path"]
        .as_str()
        .unwrap()
        .to_owned();
    path.split('/').nth(1).unwrap().to_owned()
}

#[tokio::test(start_paused = true)]
async fn a_state_that_fails_to_serialise_rolls_back_every_state_of_its_section() {
    let engine = states_engine();
    let mut client = Client::connect(engine.open().unwrap());
    // The counter is committed before the fragile state, every time.
    client.send(INCREMENT, ());
    client.send(TOUCH_FRAGILE, ());
    client.quiesce::<Counter>().await;
    client.send(POISON, ());
    let counter: Counter = client.quiesce().await;
    assert_eq!(counter.count, 1, "the counter's change is rolled back too");
    assert_eq!(client.notices().len(), 1, "the client is told");
    assert!(
        !client
            .session
            .read(|fragile: &Fragile| fragile.poisoned)
            .await,
        "the poisoned state is rolled back"
    );
    // Later patches apply to the copy the client really has.
    client.send(INCREMENT, ());
    client.send(TOUCH_FRAGILE, ());
    assert_eq!(client.quiesce::<Counter>().await.count, 2);
    let fragile: Fragile = client.document().state().unwrap();
    assert_eq!(fragile.touched, 2);
}
