//! Many background tasks in one engine, each taking its session's lock once
//! a second: how long the lock takes to get, and the CPU per lock section,
//! including the JSON each stream would send. It lives here, beside the
//! engine, because it drives the engine itself; the load generator in
//! `bench/` is a client of the server and speaks only the wire protocol.
//!
//! `cargo bench -p stateside --bench tasks [-- --tasks N --seconds S]`
//! (10,000 tasks for 60 s unless given, as in `make bench-scale`) prints one
//! JSON row on stdout, the shape of the load generator's rows.

use std::{
    sync::{Arc, Mutex},
    time::Duration,
};

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use stateside::{App, Config, Engine, HandlerId, State, Task, transport::ClientEvent};
use tokio::{
    sync::broadcast::error::RecvError,
    time::{Instant, sleep, sleep_until},
};

/// The tasks are spread over this many sessions, so their locks contend.
const SESSIONS: usize = 100;

/// Clock ticks per second in /proc: USER_HZ, 100 on every Linux ABI.
const TICKS_PER_SECOND: f64 = 100.0;

#[derive(Clone, Default, Serialize, Deserialize)]
struct Ticks {
    count: u64,
}

impl State for Ticks {
    const NAME: &'static str = "ticks";
}

/// `(first tick after this many ms, ticks)`.
const TICK: HandlerId<(u64, u32)> = HandlerId::new("tick");

fn main() -> anyhow::Result<()> {
    let (tasks, duration) = arguments()?;
    let row = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?
        .block_on(run(tasks, duration))?;
    println!("{row}");
    Ok(())
}

/// `--tasks N` and `--seconds S`; anything else (cargo's `--bench`) is
/// ignored.
fn arguments() -> anyhow::Result<(usize, Duration)> {
    let (mut tasks, mut seconds) = (10_000, 60);
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--tasks" => tasks = args.next().unwrap_or_default().parse()?,
            "--seconds" => seconds = args.next().unwrap_or_default().parse()?,
            _ => {}
        }
    }
    Ok((tasks, Duration::from_secs(seconds)))
}

async fn run(n: usize, duration: Duration) -> anyhow::Result<Value> {
    let waits = Arc::new(Mutex::new(Vec::<Duration>::new()));
    let recorder = Arc::clone(&waits);
    let app = App::new().background(TICK, move |mut task: Task<Ticks>, (offset_ms, ticks)| {
        let waits = Arc::clone(&recorder);
        async move {
            let mut next = Instant::now() + Duration::from_millis(offset_ms);
            for _ in 0..ticks {
                sleep_until(next).await;
                next += Duration::from_secs(1);
                let asked = Instant::now();
                let mut ticks = task.lock().await;
                let waited = asked.elapsed();
                ticks.count += 1;
                drop(ticks);
                waits.lock().expect("samples lock").push(waited);
            }
            Ok(())
        }
    });
    let engine = Engine::new(app, Config::default());
    let rss_before = own_rss_mib();
    let sessions: Vec<_> = (0..SESSIONS)
        .map(|_| engine.open().expect("under the session limit"))
        .collect();
    // Each session's stream, serialised as the SSE route would.
    let streams: Vec<_> = sessions
        .iter()
        .map(|session| {
            let mut live = session.subscribe(None).unwrap().live;
            tokio::spawn(async move {
                let mut bytes = 0usize;
                loop {
                    match live.recv().await {
                        Ok(message) => {
                            bytes += serde_json::to_vec(&*message).map_or(0, |v| v.len())
                        }
                        Err(RecvError::Lagged(_)) => {}
                        Err(RecvError::Closed) => return bytes,
                    }
                }
            })
        })
        .collect();
    let ticks = duration.as_secs().max(1) as u32;
    let cpu_before = own_cpu_seconds();
    let start = Instant::now();
    for i in 0..n {
        let session = &sessions[i % SESSIONS];
        let offset_ms = (1000 * i / n) as u64;
        let event = ClientEvent {
            seq: (i / SESSIONS) as u64 + 1,
            handler: TICK.name().to_owned(),
            args: json!([offset_ms, ticks]),
        };
        session.submit(event)?;
    }
    sleep(Duration::from_millis(1500)).await;
    let live_tasks: usize = sessions.iter().map(|s| s.tasks().len()).sum();
    let rss_live = own_rss_mib();
    while sessions.iter().any(|s| !s.tasks().is_empty()) {
        sleep(Duration::from_millis(100)).await;
    }
    let wall = start.elapsed().as_secs_f64();
    let cpu = own_cpu_seconds() - cpu_before;
    let mut exact = true;
    for (i, session) in sessions.iter().enumerate() {
        let tasks_here = (n + SESSIONS - 1 - i) / SESSIONS;
        let count = session.read(|t: &Ticks| t.count).await;
        exact &= count == tasks_here as u64 * u64::from(ticks);
    }
    for stream in &streams {
        stream.abort();
    }
    let mut waits = std::mem::take(&mut *waits.lock().expect("samples lock"));
    waits.sort();
    let locks = waits.len();
    Ok(json!({
        "test": format!("scale: {n} background tasks x 1 lock/s x {ticks} s ({SESSIONS} sessions, in-process)"),
        "n": locks,
        "live_tasks": live_tasks,
        "total_s": wall,
        "locks_per_s": locks as f64 / wall,
        "lock_wait_p50_ms": percentile_ms(&waits, 50.0),
        "lock_wait_p99_ms": percentile_ms(&waits, 99.0),
        "lock_wait_max_ms": waits.last().map_or(f64::NAN, |max| max.as_secs_f64() * 1000.0),
        "cpu_us_per_lock": 1e6 * cpu / locks as f64,
        "cpu_share_of_one_core": cpu / wall,
        "rss_before_mib": rss_before,
        "rss_live_mib": rss_live,
        "kib_per_live_task": 1024.0 * (rss_live - rss_before) / n as f64,
        "exact": exact,
    }))
}

/// Nearest-rank percentile of sorted samples, the rule of the load
/// generator and of the Reflex anchor's `bench.py`, so rows compare.
fn percentile_ms(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let n = sorted.len() as f64;
    let rank = ((p / 100.0 * n + 0.5).round_ties_even() as usize).clamp(1, sorted.len());
    sorted[rank - 1].as_secs_f64() * 1000.0
}

/// CPU seconds of this process so far, user plus system, from
/// `/proc/self/stat` (utime and stime, fields 14 and 15).
fn own_cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Counted after `(comm)`, which may itself contain spaces.
    let rest = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| fields.get(i).and_then(|f| f.parse::<f64>().ok());
    match (ticks(11), ticks(12)) {
        (Some(user), Some(system)) => (user + system) / TICKS_PER_SECOND,
        _ => f64::NAN,
    }
}

/// Resident memory of this process, from `/proc/self/status`.
fn own_rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| {
            rest.trim()
                .trim_end_matches("kB")
                .trim()
                .parse::<f64>()
                .ok()
        })
        .map_or(f64::NAN, |kib| kib / 1024.0)
}
