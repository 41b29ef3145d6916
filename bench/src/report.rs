//! The side-by-side report: Reflex's rows (the anchor's `run_all.sh` JSON)
//! and ours, paired by workload, in one goal table per transport: the
//! websocket against issue 12's targets (most of them set against the
//! websocket echo floor measured in the same run), POST + SSE, the
//! fallback, against issue 7's.

use std::{fmt::Write as _, path::PathBuf};

use anyhow::{Context, Result};
use serde_json::Value;

use crate::transport::Transport;

#[derive(clap::Args)]
pub struct Inputs {
    /// The anchor's result folder (abcdeg.json and f.json), with g100k.json
    /// from `bench/reflex/g100k.sh` if it ran.
    #[arg(long)]
    reflex: PathBuf,
    /// Our `run --out` file.
    #[arg(long)]
    ours: PathBuf,
    /// The scale runs' rows, if they were made: our `scale --out` file and
    /// the row `cargo bench -p stateside --bench tasks` printed.
    #[arg(long)]
    scale: Vec<PathBuf>,
    /// Extra markdown to include as is (browser figures, engine benches).
    #[arg(long)]
    include: Vec<PathBuf>,
    /// What else the machine was doing (uptime, top), to print verbatim.
    #[arg(long, default_value = "")]
    load: String,
    #[arg(long)]
    out: PathBuf,
}

/// The rows of a file that holds an array of them, or just one.
fn rows(path: &PathBuf) -> Result<Vec<Value>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    Ok(match serde_json::from_str(&text)? {
        Value::Array(rows) => rows,
        row @ Value::Object(_) => vec![row],
        _ => Vec::new(),
    })
}

fn find<'a>(rows: &'a [Value], test: &str) -> Option<&'a Value> {
    rows.iter().find(|row| row["test"] == test)
}

fn starting<'a>(rows: &'a [Value], prefix: &str) -> Option<&'a Value> {
    rows.iter().find(|row| {
        row["test"]
            .as_str()
            .is_some_and(|test| test.starts_with(prefix))
    })
}

fn num(row: Option<&Value>, key: &str) -> Option<f64> {
    row?.get(key)?.as_f64()
}

fn fmt(value: f64) -> String {
    if value.fract() == 0.0 {
        return format!("{value:.0}");
    }
    match value.abs() {
        v if v >= 1000.0 => format!("{value:.0}"),
        v if v >= 10.0 => format!("{value:.1}"),
        v if v >= 0.1 => format!("{value:.2}"),
        _ => format!("{value:.3}"),
    }
}

/// One goal row.
struct Goal<'a> {
    workload: String,
    reflex: Option<f64>,
    ours: Option<f64>,
    unit: &'a str,
    /// Ours is better when higher (throughput) or lower (time, bytes).
    higher_is_better: bool,
    goal: String,
    met: Option<bool>,
}

impl Goal<'_> {
    fn line(&self) -> String {
        let show =
            |v: Option<f64>| v.map_or("–".to_owned(), |v| format!("{} {}", fmt(v), self.unit));
        let ratio = match (self.reflex, self.ours) {
            (Some(r), Some(o)) if r > 0.0 && o > 0.0 => {
                let x = if self.higher_is_better { o / r } else { r / o };
                format!("{}x", fmt(x))
            }
            _ => "–".to_owned(),
        };
        let met = match self.met {
            Some(true) => "yes",
            Some(false) => "**no**",
            None => "–",
        };
        format!(
            "| {} | {} | {} | {} | {} | {} |",
            self.workload,
            show(self.reflex),
            show(self.ours),
            ratio,
            self.goal,
            met
        )
    }
}

/// The figures a goal is set against, from the floor rows of our run.
struct Floor {
    socket_rt_p50: Option<f64>,
    socket_pipelined: Option<f64>,
    socket_idle_kib: Option<f64>,
    sse_rt_p50: Option<f64>,
    sse_idle_kib: Option<f64>,
}

impl Floor {
    fn of(ours: &[Value]) -> Self {
        let at = |test: &str, key: &str| num(find(ours, test), key);
        Self {
            socket_rt_p50: at("floor: bare axum websocket echo RT", "p50_ms"),
            socket_pipelined: at("floor: bare axum websocket echo pipelined", "events_per_s"),
            socket_idle_kib: at(
                "floor: bare axum idle websocket memory",
                "kib_per_session_connected",
            ),
            sse_rt_p50: at("floor: bare axum POST -> SSE RT", "p50_ms"),
            sse_idle_kib: at(
                "floor: bare axum idle SSE stream memory",
                "kib_per_session_connected",
            ),
        }
    }
}

/// 100000 as "100,000".
fn thousands(value: f64) -> String {
    let digits = format!("{value:.0}");
    let mut out = String::new();
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

fn shown(value: Option<f64>) -> String {
    value.map_or("?".into(), fmt)
}

/// The goal rows for one transport: issue 12's targets on the websocket,
/// issue 7's on the POST + SSE fallback. Our rows on `transport` are named
/// by [`Transport::test`], Reflex's by the anchor's names.
fn goals(reflex: &[Value], ours: &[Value], transport: Transport) -> Vec<String> {
    let socket = transport == Transport::Socket;
    let floor = Floor::of(ours);
    let row = |test: &str| find(ours, &transport.test(test));
    let both = |test: &str, key: &str| (num(find(reflex, test), key), num(row(test), key));
    let exact = |test: &str| row(test).map(|row| row["exact"] == Value::Bool(true));
    let ratio_at_least = |r: Option<f64>, o: Option<f64>, x: f64, higher: bool| match (r, o) {
        (Some(r), Some(o)) => Some(if higher { o >= x * r } else { r >= x * o }),
        _ => None,
    };
    let at_most = |o: Option<f64>, limit: Option<f64>| Some(o? <= limit?);
    let at_least = |o: Option<f64>, limit: Option<f64>| Some(o? >= limit?);
    let and = |a: Option<bool>, b: Option<bool>| Some(a? && b?);
    let mut lines = Vec::new();

    // a: on the socket, against the echo's pipelined websocket.
    let (r, _) = both("a serial pipelined", "events_per_s");
    for (test, workload) in [
        (
            "a serial pipelined",
            format!(
                "a: pipelined events, 1 session (one {} per event)",
                if socket { "message" } else { "request" }
            ),
        ),
        (
            "a pipelined, browser-client batches",
            "a: the same, batched as the browser client sends them".into(),
        ),
    ] {
        let o = num(row(test), "events_per_s");
        let (goal, met) = match (socket, floor.socket_pipelined) {
            (true, f) => (
                format!(
                    "≥ 70% of the websocket echo pipelined ({} /s): {}%",
                    shown(f),
                    shown(o.zip(f).map(|(o, f)| 100.0 * o / f))
                ),
                at_least(o, f.map(|f| 0.7 * f)),
            ),
            (false, _) => ("≥ 50x".into(), ratio_at_least(r, o, 50.0, true)),
        };
        lines.push(Goal {
            workload,
            reflex: r,
            ours: o,
            unit: "/s",
            higher_is_better: true,
            goal,
            met: and(met, exact(test)),
        });
    }

    let (r, o) = both("b round-trip", "p50_ms");
    let (times, b_floor, floor_name) = match socket {
        true => (1.5, floor.socket_rt_p50, "websocket echo"),
        false => (2.0, floor.sse_rt_p50, "POST → SSE"),
    };
    lines.push(Goal {
        workload: "b: one round trip, p50".into(),
        reflex: r,
        ours: o,
        unit: "ms",
        higher_is_better: false,
        goal: format!("≤ {times}x floor p50 ({} ms, {floor_name})", shown(b_floor)),
        met: at_most(o, b_floor.map(|f| times * f)),
    });
    let b_p50 = o;
    let (r, o) = both("b round-trip", "p99_ms");
    lines.push(Goal {
        workload: "b: one round trip, p99".into(),
        reflex: r,
        ours: o,
        unit: "ms",
        higher_is_better: false,
        goal: "≤ 0.5 ms".into(),
        met: at_most(o, Some(0.5)),
    });

    let (r, o) = both("c many sessions", "events_per_s");
    lines.push(Goal {
        workload: "c: 100 sessions x 50 round trips, throughput".into(),
        reflex: r,
        ours: o,
        unit: "/s",
        higher_is_better: true,
        goal: "≥ 25x".into(),
        met: and(ratio_at_least(r, o, 25.0, true), exact("c many sessions")),
    });
    let (r, o) = both("c many sessions", "p99_ms");
    lines.push(Goal {
        workload: "c: p99".into(),
        reflex: r,
        ours: o,
        unit: "ms",
        higher_is_better: false,
        goal: "≤ 5 ms".into(),
        met: at_most(o, Some(5.0)),
    });

    let (r, o) = both("d bg only", "total_s");
    lines.push(Goal {
        workload: "d: 10 tasks x 200 locked increments".into(),
        reflex: r,
        ours: o,
        unit: "s",
        higher_is_better: false,
        goal: "≥ 20x, exact".into(),
        met: and(ratio_at_least(r, o, 20.0, false), exact("d bg only")),
    });
    let (r, o) = both("d bg + fg RT same sess", "p99_ms");
    let d_limit = if socket { 1.0 } else { 5.0 };
    lines.push(Goal {
        workload: "d': foreground round trip on that session during d, p99".into(),
        reflex: r,
        ours: o,
        unit: "ms",
        higher_is_better: false,
        goal: format!("≤ {d_limit} ms"),
        met: and(at_most(o, Some(d_limit)), exact("d bg + fg RT same sess")),
    });

    // Named after its sleep, which a smoke run shortens.
    let e_ours = starting(ours, &transport.test("e bg_slow("));
    let (r, o) = (
        num(starting(reflex, "e bg_slow("), "increment_latency_ms"),
        num(e_ours, "increment_latency_ms"),
    );
    let (e_goal, e_limit) = match socket {
        true => (
            format!("≤ 2x b p50 ({} ms)", shown(b_p50)),
            b_p50.map(|b| 2.0 * b),
        ),
        false => ("≤ 0.5 ms".into(), Some(0.5)),
    };
    lines.push(Goal {
        workload: "e: an event right after a 2 s background task starts".into(),
        reflex: r,
        ours: o,
        unit: "ms",
        higher_is_better: false,
        goal: e_goal,
        met: and(
            at_most(o, e_limit),
            e_ours.map(|row| row["exact"] == Value::Bool(true)),
        ),
    });

    let (r, o) = both("f memory", "kib_per_session_connected");
    let expired = num(row("f memory"), "all_expired_after_disconnect_s");
    let freed = expired.map_or("not freed".into(), |s| {
        format!("all freed {s:.0} s after disconnect")
    });
    let (goal, met) = match socket {
        true => (
            format!(
                "≤ 8 KiB above one idle websocket on bare axum ({} KiB): {} KiB above; {freed}",
                shown(floor.socket_idle_kib),
                shown(o.zip(floor.socket_idle_kib).map(|(o, f)| o - f))
            ),
            at_most(o, floor.socket_idle_kib.map(|f| f + 8.0)),
        ),
        false => (
            format!(
                "≤ 8 KiB, freed at expiry ({freed}; one idle SSE stream on bare axum: {} KiB)",
                shown(floor.sse_idle_kib)
            ),
            at_most(o, Some(8.0)),
        ),
    };
    lines.push(Goal {
        workload: "f: memory per idle session (1000 hydrated)".into(),
        reflex: r,
        ours: o,
        unit: "KiB",
        higher_is_better: false,
        goal,
        met: and(met, Some(expired.is_some())),
    });

    let (r, o) = both("g append_item RT", "last_delta_bytes");
    let ops = num(row("g append_item RT"), "last_ops_bytes");
    let message = if socket {
        "the websocket message"
    } else {
        "the SSE event's data"
    };
    lines.push(Goal {
        workload: "g: bytes of the update after appending item 500".into(),
        reflex: r,
        ours: o,
        unit: "B",
        higher_is_better: false,
        goal: format!(
            "≤ 64 B (ours: {message}, whole; its ops alone {} B)",
            shown(ops)
        ),
        met: and(at_most(o, Some(64.0)), exact("g append_item RT")),
    });
    let g_ops = ops;
    let g_p50 = num(row("g append_item RT"), "p50_ms");

    // g100k: the same append on a list of 100,000 items (issue 15): a
    // patch costs what the change costs, so bytes and time stay g's.
    let g100k = "g100k append_item RT";
    let items = num(row(g100k), "list_items")
        .or(num(find(reflex, g100k), "list_items"))
        .map_or("100,000".to_owned(), thousands);
    let (r, o) = both(g100k, "last_delta_bytes");
    let ops = num(row(g100k), "last_ops_bytes");
    lines.push(Goal {
        workload: format!("g100k: bytes of the update after an append to {items} items"),
        reflex: r,
        ours: o,
        unit: "B",
        higher_is_better: false,
        goal: format!(
            "flat: its ops at most g's {} B + 1 (the item has a sixth digit): {} B; \
             the rest grows with the digits of version and acked only",
            shown(g_ops),
            shown(ops)
        ),
        met: and(at_most(ops, g_ops.map(|g| g + 1.0)), exact(g100k)),
    });
    let (r, o) = both(g100k, "p50_ms");
    lines.push(Goal {
        workload: format!("g100k: append round trip at {items} items, p50"),
        reflex: r,
        ours: o,
        unit: "ms",
        higher_is_better: false,
        goal: format!("flat: ≤ 2x g's p50 ({} ms)", shown(g_p50)),
        met: and(at_most(o, g_p50.map(|g| 2.0 * g)), exact(g100k)),
    });
    lines.iter().map(Goal::line).collect()
}

const COLUMNS: [&str; 8] = [
    "n",
    "total_s",
    "events_per_s",
    "p50_ms",
    "p99_ms",
    "max_ms",
    "server_cpu_ms_per_event",
    "exact",
];

fn cell(row: &Value, key: &str) -> String {
    match row.get(key) {
        Some(Value::Number(n)) if n.is_f64() => fmt(n.as_f64().unwrap_or(f64::NAN)),
        Some(Value::Null) | None => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    }
}

/// A markdown table of the rows that have the common columns, then every
/// other row as JSON.
fn detail(rows: &[Value]) -> String {
    let mut text = format!(
        "| test | {} |\n|---|{}\n",
        COLUMNS.join(" | "),
        "---|".repeat(COLUMNS.len())
    );
    let (tabular, other): (Vec<_>, Vec<_>) = rows
        .iter()
        .partition(|row| row.get("p50_ms").is_some() || row.get("events_per_s").is_some());
    for row in tabular {
        let cells: Vec<String> = COLUMNS.iter().map(|key| cell(row, key)).collect();
        let _ = writeln!(text, "| {} | {} |", cell(row, "test"), cells.join(" | "));
    }
    for row in other {
        let _ = writeln!(text, "\n    {row}");
    }
    text
}

/// Prints our rows as a plain table on the terminal.
pub fn print_table(rows: &[Value]) {
    println!("\n{}", detail(rows));
}

pub fn write(inputs: &Inputs) -> Result<()> {
    let mut reflex = rows(&inputs.reflex.join("abcdeg.json"))?;
    reflex.extend(rows(&inputs.reflex.join("f.json")).unwrap_or_default());
    // g100k, from `bench/reflex/g100k.sh` (its own backend start).
    reflex.extend(rows(&inputs.reflex.join("g100k.json")).unwrap_or_default());
    let ours = rows(&inputs.ours)?;
    let mut text = String::new();
    let _ = writeln!(
        text,
        "# Stateside vs Reflex 0.10.1, one run on one machine\n"
    );
    let _ = writeln!(
        text,
        "Both backends ran the anchor's workloads a to g (`../shared/anchors/reflex/scripts/bench.py`) \
         with its default counts, and g100k (`bench/reflex/g100k.py` on Reflex's side), one after \
         the other, on loopback; ours through `bench/` (`make bench`). Ratios are Reflex/ours for \
         times and bytes, ours/Reflex for rates.\n"
    );
    for (transport, heading) in [
        (
            Transport::Socket,
            "## Goals on the websocket, the primary transport (issue 12)",
        ),
        (
            Transport::Http,
            "## Goals on POST + SSE, the fallback (issue 7)",
        ),
    ] {
        let _ = writeln!(
            text,
            "{heading}\n\n| workload | Reflex | ours | ratio | goal | met? |\n|---|---|---|---|---|---|"
        );
        for line in goals(&reflex, &ours, transport) {
            let _ = writeln!(text, "{line}");
        }
        text.push('\n');
    }
    let _ = writeln!(
        text,
        "\n## Every row, ours (floor first)\n\n{}",
        detail(&ours)
    );
    let _ = writeln!(text, "## Every row, Reflex\n\n{}", detail(&reflex));
    if !inputs.scale.is_empty() {
        let _ = writeln!(text, "## Scale runs (ours)\n");
        for scale in &inputs.scale {
            for row in rows(scale)? {
                let _ = writeln!(text, "    {row}");
            }
        }
        text.push('\n');
    }
    for include in &inputs.include {
        text.push_str(&std::fs::read_to_string(include)?);
        text.push('\n');
    }
    if !inputs.load.is_empty() {
        let _ = writeln!(
            text,
            "## The machine during the run\n\n```\n{}\n```",
            inputs.load.trim()
        );
    }
    std::fs::write(&inputs.out, text)?;
    println!("wrote {}", inputs.out.display());
    Ok(())
}
