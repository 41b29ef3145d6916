//! The scale runs, optional and slow (a minute each by default):
//!
//! - `sessions`: many tabs against the real server, each sending one
//!   increment a second and waiting for its update. Their events share a
//!   pool of keep-alive connections, as tabs behind a proxy do, so the
//!   sockets are one stream per tab plus the pool.
//! - `tasks`: many background tasks in one engine, in-process, each taking
//!   the session lock once a second: how long the lock takes to get, and
//!   the CPU per lock section including the JSON each stream would send.

use std::{
    sync::{Arc, Mutex},
    time::Duration,
};

use anyhow::Result;
use futures::{StreamExt, future::try_join_all, stream};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use stateside::{App, Config, Engine, HandlerId, State, Task, transport::ClientEvent};
use tokio::{
    sync::broadcast::error::RecvError,
    time::{Instant, MissedTickBehavior, interval_at, sleep, sleep_until},
};

use crate::{
    client::Session,
    conn::Pool,
    process::{Server, own_cpu_seconds, own_rss_mib},
    stats::{Meter, Samples},
};

/// Connections the scale run's tabs share for their events.
const POOL: usize = 128;

pub async fn sessions(server: &Server, n: usize, duration: Duration) -> Result<Value> {
    let pool = Pool::new(server.addr, POOL);
    let rss_before = server.rss_mib();
    let opened = Instant::now();
    let sessions: Vec<Session> = stream::iter(0..n)
        .map(|_| Session::open_with(server.addr, Arc::clone(&pool)))
        .buffer_unordered(100)
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .collect::<Result<_>>()?;
    let open_s = opened.elapsed().as_secs_f64();
    let rss_open = server.rss_mib();
    let ticks = duration.as_secs().max(1);
    let start = Instant::now() + Duration::from_millis(100);
    let meter = Meter::start(server);
    let runs = sessions.into_iter().enumerate().map(|(i, mut session)| {
        // Spread the tabs evenly over each second.
        let phase = Duration::from_secs(1).mul_f64(i as f64 / n as f64);
        tokio::spawn(async move {
            let mut clock = interval_at(start + phase, Duration::from_secs(1));
            clock.set_missed_tick_behavior(MissedTickBehavior::Delay);
            let (mut latencies, mut errors) = (Samples::default(), 0u64);
            for _ in 0..ticks {
                clock.tick().await;
                match session.increment().await {
                    Ok(latency) => latencies.push(latency),
                    Err(_) => errors += 1,
                }
            }
            let exact = session.view().count == ticks as i64 - errors as i64;
            anyhow::Ok((latencies, errors, exact))
        })
    });
    let results = try_join_all(runs).await?;
    let metered = meter.stop(server);
    let rss_end = server.rss_mib();
    let (mut latencies, mut errors, mut exact) = (Samples::default(), 0, true);
    for result in results {
        let (samples, failed, ok) = result?;
        latencies.extend(samples);
        errors += failed;
        exact &= ok;
    }
    let events = latencies.len();
    Ok(json!({
        "test": format!("scale: {n} sessions x 1 event/s x {ticks} s"),
        "n": events,
        "open_s": open_s,
        "total_s": metered.wall.as_secs_f64(),
        "events_per_s": events as f64 / metered.wall.as_secs_f64(),
        "p50_ms": latencies.percentile(50.0),
        "p99_ms": latencies.percentile(99.0),
        "max_ms": latencies.max(),
        "errors": errors,
        "exact": exact && errors == 0,
        "server_cpu_ms_per_event": 1000.0 * metered.server_cpu_s / events as f64,
        "client_cpu_s": metered.client_cpu_s,
        "server_rss_before_mib": rss_before,
        "server_rss_open_mib": rss_open,
        "server_rss_end_mib": rss_end,
        "kib_per_live_session": 1024.0 * (rss_end - rss_before) / n as f64,
        "event_connections": pool.size(),
    }))
}

#[derive(Clone, Default, Serialize, Deserialize)]
struct Ticks {
    count: u64,
}

impl State for Ticks {
    const NAME: &'static str = "ticks";
}

/// `(first tick after this many ms, ticks)`.
const TICK: HandlerId<(u64, u32)> = HandlerId::new("tick");

const SESSIONS: usize = 100;

/// `n` tasks over [`SESSIONS`] sessions of one in-process engine.
pub fn tasks(n: usize, duration: Duration) -> Result<Value> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?
        .block_on(run_tasks(n, duration))
}

async fn run_tasks(n: usize, duration: Duration) -> Result<Value> {
    let waits = Arc::new(Mutex::new(Samples::default()));
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
    let sessions: Vec<_> = (0..SESSIONS).map(|_| engine.open().unwrap()).collect();
    // Each session's stream, serialised as the SSE route would.
    let streams: Vec<_> = sessions
        .iter()
        .map(|session| {
            let mut live = session.subscribe(None).live;
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
    let waits = std::mem::take(&mut *waits.lock().expect("samples lock"));
    let locks = waits.len();
    Ok(json!({
        "test": format!("scale: {n} background tasks x 1 lock/s x {ticks} s ({SESSIONS} sessions, in-process)"),
        "n": locks,
        "live_tasks": live_tasks,
        "total_s": wall,
        "locks_per_s": locks as f64 / wall,
        "lock_wait_p50_ms": waits.percentile(50.0),
        "lock_wait_p99_ms": waits.percentile(99.0),
        "lock_wait_max_ms": waits.max(),
        "cpu_us_per_lock": 1e6 * cpu / locks as f64,
        "cpu_share_of_one_core": cpu / wall,
        "rss_before_mib": rss_before,
        "rss_live_mib": rss_live,
        "kib_per_live_task": 1024.0 * (rss_live - rss_before) / n as f64,
        "exact": exact,
    }))
}
