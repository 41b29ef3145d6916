//! The flush cost of a change, before and after `#[derive(State)]` (issue
//! 15): `cargo bench -p stateside --bench flush`.
//!
//! One flush is what the engine does for a state written in a lock section
//! (`state_map.rs`): take a working copy of the published value (`Clone`),
//! apply the change, and ask the copy for its ops against the published
//! value (`State::changes`); the copy is then dropped here, as the value it
//! replaces is dropped there. Every iteration starts again from the same
//! published value, so the list keeps its size.
//!
//! - `before`: `items: Vec<String>` and a hand-written `impl State` (only
//!   `NAME`): serialise both values whole and diff them, the old engine's
//!   path;
//! - `after`: `#[derive(State)]` with `items: List<String>`.
//!
//! Three changes (an append, a removal at the front, a change of the plain
//! field beside the list) on lists of 10, 1,000 and 100,000 items. At the
//! end the run prints one markdown table of criterion's medians (change x
//! size; before, after, ratio), read back from criterion's
//! `estimates.json` of the benchmarks this run measured.

use std::{
    hint::black_box,
    path::PathBuf,
    sync::Mutex,
    time::{Duration, Instant, SystemTime},
};

use criterion::{BenchmarkId, Criterion, SamplingMode};
use json_patch::jsonptr::PointerBuf;
use serde::{Deserialize, Serialize};
use stateside::State;
use stateside_wire::List;

/// The old engine's path: serialise-and-diff.
#[derive(Clone, Default, Serialize, Deserialize)]
struct Before {
    count: i64,
    items: Vec<String>,
}

impl State for Before {
    const NAME: &'static str = "bench";
}

/// The derive, with a tracked list.
#[derive(Clone, Default, stateside_wire::State)]
#[state(name = "bench")]
struct After {
    count: i64,
    items: List<String>,
}

const SIZES: [usize; 3] = [10, 1_000, 100_000];

#[derive(Clone, Copy)]
enum Change {
    Append,
    RemoveFront,
    Field,
}

impl Change {
    const ALL: [Self; 3] = [Self::Append, Self::RemoveFront, Self::Field];

    fn id(self) -> &'static str {
        match self {
            Self::Append => "append",
            Self::RemoveFront => "remove_front",
            Self::Field => "field",
        }
    }

    fn label(self) -> &'static str {
        match self {
            Self::Append => "one-item append",
            Self::RemoveFront => "removal at the front",
            Self::Field => "change of a plain field beside the list",
        }
    }
}

fn item(i: usize) -> String {
    format!("item-{i:05}")
}

/// What both states let a change do.
trait Bench: State {
    fn filled(size: usize) -> Self;
    fn apply(&mut self, change: Change, size: usize);
}

impl Bench for Before {
    fn filled(size: usize) -> Self {
        Self {
            count: 0,
            items: (0..size).map(item).collect(),
        }
    }

    fn apply(&mut self, change: Change, size: usize) {
        match change {
            Change::Append => self.items.push(item(size)),
            Change::RemoveFront => {
                self.items.remove(0);
            }
            Change::Field => self.count += 1,
        }
    }
}

impl Bench for After {
    fn filled(size: usize) -> Self {
        Self {
            count: 0,
            items: (0..size).map(item).collect(),
        }
    }

    fn apply(&mut self, change: Change, size: usize) {
        match change {
            Change::Append => self.items.push(item(size)),
            Change::RemoveFront => {
                self.items.pop_front();
            }
            Change::Field => self.count += 1,
        }
    }
}

/// A published value as the engine holds one after a few flushes: it went
/// through `changes` (so its journal is settled, as every published value
/// is), and a commit or two happened on it since it was filled.
fn published<S: Bench>(size: usize) -> S {
    let mut value = S::filled(size);
    let empty = S::initial();
    let root = PointerBuf::new();
    value
        .changes(&empty, &root, &mut Vec::new())
        .expect("serialises");
    for _ in 0..2 {
        let mut next = value.clone();
        next.apply(Change::Field, size);
        next.changes(&value, &root, &mut Vec::new())
            .expect("serialises");
        value = next;
    }
    value
}

/// One flush: working copy, change, ops against the published value; what
/// it returns (the copy and the ops) is dropped within the measurement.
fn flush<S: Bench>(
    published: &S,
    change: Change,
    size: usize,
) -> (S, Vec<json_patch::PatchOperation>, usize) {
    let mut working = published.clone();
    working.apply(change, size);
    let path = PointerBuf::from_tokens([S::NAME]);
    let mut ops = Vec::new();
    let bytes = working
        .changes(published, &path, &mut ops)
        .expect("serialises");
    (working, ops, bytes)
}

/// The benchmarks this run measured, for the table: the change, the list's
/// size, and how many ops each side writes for it.
static MEASURED: Mutex<Vec<(Change, usize, usize, usize)>> = Mutex::new(Vec::new());

fn bench_one<S: Bench>(
    group: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    side: &str,
    change: Change,
    size: usize,
) -> usize {
    let published = published::<S>(size);
    // The ops are what they should be before they are timed.
    let (_, ops, _) = flush(&published, change, size);
    assert!(!ops.is_empty(), "{side} {} at {size}: no ops", change.id());
    group.bench_with_input(
        BenchmarkId::new(format!("{}_{side}", change.id()), size),
        &size,
        |b, &size| b.iter(|| flush(black_box(&published), change, size)),
    );
    ops.len()
}

fn benches(c: &mut Criterion) {
    let mut group = c.benchmark_group("flush");
    for change in Change::ALL {
        for size in SIZES {
            // Serialising and diffing 100,000 items takes milliseconds:
            // a few iterations per sample are plenty.
            if size >= 100_000 {
                group
                    .sampling_mode(SamplingMode::Flat)
                    .sample_size(20)
                    .measurement_time(Duration::from_secs(3));
            } else {
                group
                    .sampling_mode(SamplingMode::Auto)
                    .sample_size(50)
                    .measurement_time(Duration::from_secs(2));
            }
            let before = bench_one::<Before>(&mut group, "before", change, size);
            let after = bench_one::<After>(&mut group, "after", change, size);
            MEASURED.lock().unwrap().push((change, size, before, after));
        }
    }
    group.finish();
}

/// Where criterion writes, as criterion finds it: `$CRITERION_HOME`, else
/// `$CARGO_TARGET_DIR/criterion`, else the target directory `cargo
/// metadata` names, else `target/criterion`.
fn criterion_home() -> PathBuf {
    if let Some(home) = std::env::var_os("CRITERION_HOME") {
        return home.into();
    }
    if let Some(target) = std::env::var_os("CARGO_TARGET_DIR") {
        return PathBuf::from(target).join("criterion");
    }
    let metadata = std::env::var_os("CARGO").and_then(|cargo| {
        std::process::Command::new(cargo)
            .args(["metadata", "--format-version", "1", "--no-deps"])
            .output()
            .ok()
    });
    metadata
        .and_then(|output| serde_json::from_slice::<serde_json::Value>(&output.stdout).ok())
        .and_then(|metadata| metadata["target_directory"].as_str().map(PathBuf::from))
        .map_or_else(
            || PathBuf::from("target/criterion"),
            |target| target.join("criterion"),
        )
}

/// Criterion's median for one benchmark, in nanoseconds, if this run saved
/// it (a benchmark a filter skipped keeps an older file: not reported).
fn median_ns(home: &std::path::Path, id: &str, size: usize, since: SystemTime) -> Option<f64> {
    let path = home
        .join("flush")
        .join(id)
        .join(size.to_string())
        .join("new")
        .join("estimates.json");
    if std::fs::metadata(&path).ok()?.modified().ok()? < since {
        return None;
    }
    let text = std::fs::read_to_string(path).ok()?;
    let estimates: serde_json::Value = serde_json::from_str(&text).ok()?;
    estimates["median"]["point_estimate"].as_f64()
}

fn human(ns: f64) -> String {
    if ns >= 1e6 {
        format!("{:.2} ms", ns / 1e6)
    } else if ns >= 1e3 {
        format!("{:.2} µs", ns / 1e3)
    } else {
        format!("{ns:.0} ns")
    }
}

fn table(since: SystemTime) {
    let measured = MEASURED.lock().unwrap().clone();
    if measured.is_empty() {
        return;
    }
    let home = criterion_home();
    println!();
    println!(
        "Flush cost of one change (criterion medians: working copy + change + `State::changes`)"
    );
    println!();
    println!(
        "| change | items | before (Vec, serialise + diff) | after (derive, List) | ratio | ops before / after |"
    );
    println!("|---|---:|---:|---:|---:|---:|");
    for (change, size, before_ops, after_ops) in measured {
        let before = median_ns(&home, &format!("{}_before", change.id()), size, since);
        let after = median_ns(&home, &format!("{}_after", change.id()), size, since);
        if before.is_none() && after.is_none() {
            continue;
        }
        let cell = |ns: Option<f64>| ns.map_or_else(|| "?".to_owned(), human);
        let ratio = match (before, after) {
            (Some(before), Some(after)) if after > 0.0 => format!("{:.0}x", before / after),
            _ => "?".to_owned(),
        };
        println!(
            "| {} | {size} | {} | {} | {ratio} | {before_ops} / {after_ops} |",
            change.label(),
            cell(before),
            cell(after),
        );
    }
}

fn main() {
    let started = Instant::now();
    let since = SystemTime::now();
    let mut criterion = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .configure_from_args();
    benches(&mut criterion);
    criterion.final_summary();
    table(since);
    eprintln!("flush bench: {:.0} s", started.elapsed().as_secs_f64());
}
