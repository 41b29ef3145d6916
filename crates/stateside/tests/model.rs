//! A property test of the whole engine against a serial model.
//!
//! Random mixes of foreground events (with flushes, chained events and
//! failures), background tasks (lock sections with flushes, all-or-nothing
//! sections, panics, errors, chained events) and cancels run on one session
//! under real threads. Every change is an addition, logged in the state with
//! the op and step that made it, so the outcome does not depend on how the
//! threads interleave and a serial model can say what it must be:
//! - each op's committed steps are exactly the model's (a task that was
//!   cancelled may stop anywhere, but only after a whole step);
//! - foreground ops from the client and their chains ran in the model's
//!   breadth-first order;
//! - the total is the sum of the logged steps, in the server's state and in
//!   the client's copy after every patch, and so is the computed field that
//!   sums the log (a tracked `List`); the copy ends equal to the server;
//! - versions follow each other with no gap and no repeat (the test client
//!   checks that on every message).

mod support;

use std::{
    collections::{BTreeMap, VecDeque},
    sync::Once,
};

use proptest::prelude::*;
use serde::{Deserialize, Serialize};
use stateside::{App, Cx, Engine, HandlerId, State, Task, transport::ServerMessage};
use stateside_wire::{Document, List};
use support::{Client, config};
use tokio::sync::Notify;

#[derive(Clone, Default, Debug, PartialEq, State)]
struct Tally {
    total: i64,
    /// `(op, step, delta)` for every committed step.
    log: List<(u32, u32, i64)>,
    #[computed(sum_of(log))]
    logged: i64,
}

fn sum_of(log: &List<(u32, u32, i64)>) -> i64 {
    log.iter().map(|&(_, _, delta)| delta).sum()
}

#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
struct Step {
    delta: i64,
    flush: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
enum Fail {
    No,
    Err,
    Panic,
}

/// A foreground event: chains its children first, then takes its steps,
/// then fails or not.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct Fg {
    id: u32,
    chain: Vec<Fg>,
    steps: Vec<Step>,
    fail: Fail,
}

#[derive(Clone, Copy, Debug, Serialize, Deserialize)]
enum SectionEnd {
    /// Released normally: published.
    Release,
    /// Run through `Task::update`, which returns `Err`: rolled back.
    UpdateErr,
    /// A panic inside the guard: back to its last flush; the task ends.
    Panic,
    /// Released, then the task returns `Err`.
    ErrAfter,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
struct Section {
    steps: Vec<Step>,
    end: SectionEnd,
}

/// A background task: queues its events, then runs its lock sections.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct Bg {
    id: u32,
    emits: Vec<Fg>,
    sections: Vec<Section>,
}

#[derive(Clone, Debug)]
enum Op {
    Fg(Fg),
    Bg(Bg),
    /// A task that adds 1 per section until it is cancelled.
    Doomed(u32),
    /// A foreground event that cancels every doomed task.
    Kill,
}

const GATE: HandlerId<()> = HandlerId::new("gate");
const FG: HandlerId<Fg> = HandlerId::new("fg");
const BG: HandlerId<Bg> = HandlerId::new("bg");
const DOOMED: HandlerId<u32> = HandlerId::new("doomed");
const KILL: HandlerId<()> = HandlerId::new("kill");

/// Steps a section may take before the task stops at a flush.
const DOOMED_STEPS: u32 = 200;
const PANIC_MESSAGE: &str = "model: planned panic";

/// Opened by the test once every client event is queued, so the breadth-
/// first order does not depend on how fast the test submits.
static GATE_OPEN: Notify = Notify::const_new();

async fn gate(_cx: Cx<Tally>, (): ()) -> anyhow::Result<()> {
    GATE_OPEN.notified().await;
    Ok(())
}

fn add(state: &mut Tally, id: u32, step: u32, delta: i64) {
    state.total += delta;
    state.log.push((id, step, delta));
}

fn fail(how: Fail) -> anyhow::Result<()> {
    match how {
        Fail::No => Ok(()),
        Fail::Err => anyhow::bail!("model: planned error"),
        Fail::Panic => panic!("{PANIC_MESSAGE}"),
    }
}

async fn fg(mut cx: Cx<Tally>, op: Fg) -> anyhow::Result<()> {
    for child in &op.chain {
        cx.emit(FG, child)?;
    }
    for (index, step) in op.steps.iter().enumerate() {
        add(&mut cx, op.id, index as u32, step.delta);
        if step.flush {
            cx.flush();
        }
    }
    fail(op.fail)
}

async fn bg(mut task: Task<Tally>, op: Bg) -> anyhow::Result<()> {
    for event in &op.emits {
        task.emit(FG, event)?;
    }
    for (s, section) in op.sections.iter().enumerate() {
        let step_id = |index: usize| (s * 100 + index) as u32;
        tokio::task::yield_now().await;
        if let SectionEnd::UpdateErr = section.end {
            let result: Result<(), ()> = task
                .update(|tally| {
                    for (index, step) in section.steps.iter().enumerate() {
                        add(tally, op.id, step_id(index), step.delta);
                    }
                    Err(())
                })
                .await;
            assert!(result.is_err());
            continue;
        }
        let mut tally = task.lock().await;
        for (index, step) in section.steps.iter().enumerate() {
            add(&mut tally, op.id, step_id(index), step.delta);
            if step.flush {
                tally.flush();
            }
        }
        match section.end {
            SectionEnd::Panic => fail(Fail::Panic)?,
            SectionEnd::ErrAfter => {
                drop(tally);
                return fail(Fail::Err);
            }
            SectionEnd::Release | SectionEnd::UpdateErr => {}
        }
    }
    Ok(())
}

async fn doomed(mut task: Task<Tally>, id: u32) -> anyhow::Result<()> {
    for step in 0..DOOMED_STEPS {
        add(&mut *task.lock().await, id, step, 1);
        tokio::task::yield_now().await;
    }
    futures::future::pending().await
}

async fn kill(cx: Cx<Tally>, (): ()) -> anyhow::Result<()> {
    for task in cx.tasks() {
        if task.handler == DOOMED.name() {
            cx.cancel(task.id);
        }
    }
    Ok(())
}

fn model_engine() -> Engine {
    let app = App::new()
        .on(GATE, gate)
        .on(FG, fg)
        .on(KILL, kill)
        .background(BG, bg)
        .background(DOOMED, doomed);
    Engine::new(app, config())
}

// The serial model.

/// The steps of `op` that stay: all, or up to its last flush if it fails.
fn kept_steps(steps: &[Step], fails: bool) -> usize {
    if fails {
        steps
            .iter()
            .rposition(|step| step.flush)
            .map_or(0, |i| i + 1)
    } else {
        steps.len()
    }
}

/// Whether a foreground op's chained events survive it.
fn chain_survives(op: &Fg) -> bool {
    op.fail == Fail::No || op.steps.iter().any(|step| step.flush)
}

/// What each deterministic op commits, by op id.
type Expected = BTreeMap<u32, Vec<(u32, i64)>>;

fn expect_fg(op: &Fg, expected: &mut Expected) {
    let kept = kept_steps(&op.steps, op.fail != Fail::No);
    let steps = op.steps[..kept]
        .iter()
        .enumerate()
        .map(|(index, step)| (index as u32, step.delta));
    expected.insert(op.id, steps.collect());
    if chain_survives(op) {
        op.chain.iter().for_each(|child| expect_fg(child, expected));
    } else {
        forget_fg(op, expected);
    }
}

/// Marks an op's chain as never run.
fn forget_fg(op: &Fg, expected: &mut Expected) {
    for child in &op.chain {
        expected.insert(child.id, Vec::new());
        forget_fg(child, expected);
    }
}

fn expect_bg(op: &Bg, expected: &mut Expected) {
    op.emits.iter().for_each(|event| expect_fg(event, expected));
    let mut steps = Vec::new();
    for (s, section) in op.sections.iter().enumerate() {
        let kept = match section.end {
            SectionEnd::Release | SectionEnd::ErrAfter => section.steps.len(),
            SectionEnd::UpdateErr => 0,
            SectionEnd::Panic => kept_steps(&section.steps, true),
        };
        let step_id = |index: usize| (s * 100 + index) as u32;
        steps.extend(
            section.steps[..kept]
                .iter()
                .enumerate()
                .map(|(index, step)| (step_id(index), step.delta)),
        );
        if matches!(section.end, SectionEnd::Panic | SectionEnd::ErrAfter) {
            break;
        }
    }
    expected.insert(op.id, steps);
}

/// The client's foreground ops and their chains, in the order they run,
/// skipping those that commit nothing.
fn breadth_first(ops: &[Op], expected: &Expected) -> Vec<u32> {
    let mut line: VecDeque<&Fg> = ops
        .iter()
        .filter_map(|op| match op {
            Op::Fg(fg) => Some(fg),
            _ => None,
        })
        .collect();
    let mut order = Vec::new();
    while let Some(op) = line.pop_front() {
        if !expected[&op.id].is_empty() {
            order.push(op.id);
        }
        if chain_survives(op) {
            line.extend(&op.chain);
        }
    }
    order
}

fn client_fg_ids(op: &Fg, ids: &mut Vec<u32>) {
    ids.push(op.id);
    op.chain.iter().for_each(|child| client_fg_ids(child, ids));
}

// Generating ops.

fn step() -> impl Strategy<Value = Step> {
    (1..10i64, any::<bool>()).prop_map(|(delta, flush)| Step { delta, flush })
}

fn steps() -> impl Strategy<Value = Vec<Step>> {
    prop::collection::vec(step(), 0..4)
}

fn fail_mode() -> impl Strategy<Value = Fail> {
    prop_oneof![6 => Just(Fail::No), 1 => Just(Fail::Err), 1 => Just(Fail::Panic)]
}

fn fg_op() -> impl Strategy<Value = Fg> {
    let leaf = (steps(), fail_mode()).prop_map(|(steps, fail)| Fg {
        id: 0,
        chain: Vec::new(),
        steps,
        fail,
    });
    leaf.prop_recursive(2, 8, 2, |inner| {
        (prop::collection::vec(inner, 0..3), steps(), fail_mode()).prop_map(
            |(chain, steps, fail)| Fg {
                id: 0,
                chain,
                steps,
                fail,
            },
        )
    })
}

fn section() -> impl Strategy<Value = Section> {
    let end = prop_oneof![
        6 => Just(SectionEnd::Release),
        1 => Just(SectionEnd::UpdateErr),
        1 => Just(SectionEnd::Panic),
        1 => Just(SectionEnd::ErrAfter),
    ];
    (steps(), end).prop_map(|(steps, end)| Section { steps, end })
}

fn bg_op() -> impl Strategy<Value = Bg> {
    (
        prop::collection::vec(fg_op(), 0..3),
        prop::collection::vec(section(), 0..4),
    )
        .prop_map(|(emits, sections)| Bg {
            id: 0,
            emits,
            sections,
        })
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => fg_op().prop_map(Op::Fg),
        3 => bg_op().prop_map(Op::Bg),
        1 => Just(Op::Doomed(0)),
        1 => Just(Op::Kill),
    ]
}

/// A run of ops with unique ids, ending in a kill so no task is left.
fn ops() -> impl Strategy<Value = Vec<Op>> {
    prop::collection::vec(op(), 1..10).prop_map(|mut ops| {
        ops.push(Op::Kill);
        let mut next = 0;
        let mut id = || {
            next += 1;
            next
        };
        fn number_fg(op: &mut Fg, id: &mut impl FnMut() -> u32) {
            op.id = id();
            op.chain.iter_mut().for_each(|child| number_fg(child, id));
        }
        for op in &mut ops {
            match op {
                Op::Fg(fg) => number_fg(fg, &mut id),
                Op::Bg(bg) => {
                    bg.id = id();
                    bg.emits.iter_mut().for_each(|e| number_fg(e, &mut id));
                }
                Op::Doomed(doomed) => *doomed = id(),
                Op::Kill => {}
            }
        }
        ops
    })
}

// Running and checking.

async fn run(ops: &[Op]) -> Result<(), TestCaseError> {
    let engine = model_engine();
    let mut client = Client::connect(engine.open().unwrap());
    client.send(GATE, ());
    for op in ops {
        match op {
            Op::Fg(fg) => client.send(FG, fg.clone()),
            Op::Bg(bg) => client.send(BG, bg.clone()),
            Op::Doomed(id) => client.send(DOOMED, *id),
            Op::Kill => client.send(KILL, ()),
        };
    }
    GATE_OPEN.notify_one();
    let server: Tally = client.quiesce().await;

    // Every state the client was shown adds up.
    let mut document = Document::default();
    for message in &client.received {
        document.apply(message).unwrap();
        if matches!(&**message, ServerMessage::Update(update) if !update.ops.is_empty()) {
            let shown: Tally = document.state().unwrap();
            let sum = sum_of(&shown.log);
            prop_assert_eq!(shown.total, sum, "at version {}", document.version());
            prop_assert_eq!(shown.logged, sum, "at version {}", document.version());
        }
    }
    prop_assert_eq!(server.total, sum_of(&server.log));
    prop_assert_eq!(server.logged, server.total);

    let mut expected = Expected::new();
    let mut doomed = Vec::new();
    for op in ops {
        match op {
            Op::Fg(fg) => expect_fg(fg, &mut expected),
            Op::Bg(bg) => expect_bg(bg, &mut expected),
            Op::Doomed(id) => doomed.push(*id),
            Op::Kill => {}
        }
    }
    let mut actual: BTreeMap<u32, Vec<(u32, i64)>> = BTreeMap::new();
    for &(id, step, delta) in &server.log {
        actual.entry(id).or_default().push((step, delta));
    }
    for (id, steps) in &actual {
        if doomed.contains(id) {
            let prefix: Vec<_> = (0..steps.len() as u32).map(|step| (step, 1)).collect();
            prop_assert_eq!(steps, &prefix, "a cancelled task stops between steps");
        } else {
            prop_assert!(expected.contains_key(id), "unknown op {}", id);
        }
    }
    for (id, steps) in &expected {
        let empty = Vec::new();
        prop_assert_eq!(actual.get(id).unwrap_or(&empty), steps, "op {}", id);
    }

    let mut client_ids = Vec::new();
    for op in ops {
        if let Op::Fg(fg) = op {
            client_fg_ids(fg, &mut client_ids);
        }
    }
    let mut ran = Vec::new();
    for &(id, _, _) in &server.log {
        if client_ids.contains(&id) && ran.last() != Some(&id) {
            ran.push(id);
        }
    }
    prop_assert_eq!(ran, breadth_first(ops, &expected));
    Ok(())
}

/// Planned panics are part of the test; anything else still reports.
fn quiet_planned_panics() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let payload = info.payload();
            let planned = payload
                .downcast_ref::<String>()
                .map(String::as_str)
                .or_else(|| payload.downcast_ref::<&str>().copied())
                == Some(PANIC_MESSAGE);
            if !planned {
                default(info);
            }
        }));
    });
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    #[test]
    fn the_engine_matches_a_serial_model(ops in ops()) {
        quiet_planned_panics();
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(run(&ops))?;
    }
}
