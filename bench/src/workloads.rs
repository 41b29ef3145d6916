//! Workloads a to g of the Reflex anchor's `bench.py`, with its counts and
//! its row names and keys, run against Stateside's server. Every workload
//! uses fresh sessions and checks its final values exactly.

use std::{net::SocketAddr, time::Duration};

use anyhow::Result;
use futures::{StreamExt, future::try_join_all, stream};
use serde_json::{Value, json};
use stateside_wire::{ProtocolError, STREAM_PATH};
use tokio::time::{Instant, sleep};

use crate::{
    client::{Session, handler},
    conn::Conn,
    process::Server,
    stats::{Meter, Samples},
    transport::Transport,
    view::View,
};

/// The most events the browser client puts in one request.
const CLIENT_BATCH: usize = 256;

/// How many of each thing a run does.
#[derive(Clone, Debug)]
pub struct Counts {
    pub n: usize,
    pub rt: usize,
    pub clients: usize,
    pub per_client: usize,
    pub bg_tasks: usize,
    pub bg_n: i64,
    pub d_reps: usize,
    pub slow_ms: u64,
    pub mem_sessions: usize,
    pub mem_batch: usize,
    pub items: usize,
    /// g100k: the list's length before its appends are timed...
    pub big_list: usize,
    /// ...and how many appends are timed at that length.
    pub big_appends: usize,
}

impl Counts {
    /// `bench.py`'s defaults.
    pub fn full() -> Self {
        Self {
            n: 2000,
            rt: 500,
            clients: 100,
            per_client: 50,
            bg_tasks: 10,
            bg_n: 200,
            d_reps: 5,
            slow_ms: 2000,
            mem_sessions: 1000,
            mem_batch: 50,
            items: 500,
            big_list: 100_000,
            big_appends: 500,
        }
    }

    /// Small enough for CI: every path runs, exactness is still checked.
    pub fn smoke() -> Self {
        Self {
            n: 200,
            rt: 50,
            clients: 10,
            per_client: 5,
            bg_tasks: 3,
            bg_n: 20,
            d_reps: 1,
            slow_ms: 200,
            mem_sessions: 50,
            mem_batch: 25,
            items: 50,
            big_list: 2_000,
            big_appends: 10,
        }
    }
}

pub async fn warmup(transport: Transport, addr: SocketAddr) -> Result<()> {
    let mut session = Session::open(transport, addr).await?;
    for _ in 0..200 {
        session.increment().await?;
    }
    session.send(handler::BG_INCREMENT, json!(50)).await?;
    session
        .until(|view| view.count >= 250, Duration::from_secs(60))
        .await?;
    Ok(())
}

/// a: `n` increments sent back to back without waiting for their updates:
/// one request per event (`batched = false`), or grouped the way the
/// browser client groups events that pile up behind a request in flight.
pub async fn pipelined(
    server: &Server,
    transport: Transport,
    n: usize,
    batched: bool,
) -> Result<Value> {
    let mut session = Session::open(transport, server.addr).await?;
    let meter = Meter::start(server);
    let start = Instant::now();
    if batched {
        let events = vec![(handler::INCREMENT, Value::Null); n];
        for batch in events.chunks(CLIENT_BATCH) {
            session.send_batch(batch).await?;
        }
    } else {
        for _ in 0..n {
            session.send(handler::INCREMENT, Value::Null).await?;
        }
    }
    let sent = start.elapsed();
    let done = session
        .until(|view| view.count >= n as i64, Duration::from_secs(300))
        .await?;
    let metered = meter.stop(server);
    sleep(Duration::from_millis(300)).await;
    let last = session.view();
    let total = (done.at - start).as_secs_f64();
    Ok(json!({
        "test": if batched { "a pipelined, browser-client batches" } else { "a serial pipelined" },
        "n": n,
        "total_s": total,
        "send_s": sent.as_secs_f64(),
        "events_per_s": n as f64 / total,
        "final_count": last.count,
        "busy_resent": session.resent(),
        "exact": last.count == n as i64 && last.max_count == n as i64,
        "server_cpu_ms_per_event": 1000.0 * metered.server_cpu_s / n as f64,
        "client_cpu_s": metered.client_cpu_s,
    }))
}

/// b: `rt` sequential increment round trips on one session.
pub async fn round_trips(server: &Server, transport: Transport, rt: usize) -> Result<Value> {
    let mut session = Session::open(transport, server.addr).await?;
    let mut latencies = Samples::default();
    let meter = Meter::start(server);
    for _ in 0..rt {
        latencies.push(session.increment().await?);
    }
    let metered = meter.stop(server);
    let last = session.view();
    Ok(json!({
        "test": "b round-trip",
        "n": rt,
        "total_s": metered.wall.as_secs_f64(),
        "events_per_s": rt as f64 / metered.wall.as_secs_f64(),
        "p50_ms": latencies.percentile(50.0),
        "p99_ms": latencies.percentile(99.0),
        "max_ms": latencies.max(),
        "final_count": last.count,
        "exact": last.count == rt as i64,
        "server_cpu_ms_per_event": 1000.0 * metered.server_cpu_s / rt as f64,
        "client_cpu_s": metered.client_cpu_s,
    }))
}

/// Opens `n` sessions, `at_once` at a time.
async fn open_many(
    transport: Transport,
    addr: SocketAddr,
    n: usize,
    at_once: usize,
) -> Result<Vec<Session>> {
    stream::iter(0..n)
        .map(|_| Session::open(transport, addr))
        .buffer_unordered(at_once)
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .collect()
}

/// c: `clients` sessions at once, each doing `per_client` round trips.
pub async fn many_sessions(
    server: &Server,
    transport: Transport,
    clients: usize,
    per_client: usize,
) -> Result<Value> {
    let opened = Instant::now();
    let sessions = open_many(transport, server.addr, clients, 20).await?;
    let connect = opened.elapsed();
    let meter = Meter::start(server);
    let runs = sessions.into_iter().map(|mut session| {
        tokio::spawn(async move {
            let mut latencies = Samples::default();
            for _ in 0..per_client {
                latencies.push(session.increment().await?);
            }
            anyhow::Ok((session.view().count == per_client as i64, latencies))
        })
    });
    let results = try_join_all(runs).await?;
    let metered = meter.stop(server);
    let mut latencies = Samples::default();
    let mut exact = true;
    for result in results {
        let (ok, samples) = result?;
        exact &= ok;
        latencies.extend(samples);
    }
    let events = clients * per_client;
    Ok(json!({
        "test": "c many sessions",
        "n": events,
        "clients": clients,
        "per_client": per_client,
        "connect_hydrate_s": connect.as_secs_f64(),
        "total_s": metered.wall.as_secs_f64(),
        "events_per_s": events as f64 / metered.wall.as_secs_f64(),
        "p50_ms": latencies.percentile(50.0),
        "p99_ms": latencies.percentile(99.0),
        "max_ms": latencies.max(),
        "exact": exact,
        "server_cpu_ms_per_event": 1000.0 * metered.server_cpu_s / events as f64,
        "client_cpu_s": metered.client_cpu_s,
    }))
}

/// Where d's foreground round trips go while the tasks run.
#[derive(Clone, Copy, PartialEq)]
pub enum Foreground {
    None,
    SameSession,
    OtherSession,
}

/// d: one session starts `tasks` background tasks of `per_task` locked
/// increments, optionally with foreground round trips beside them; `reps`
/// repetitions with fresh sessions, latencies pooled.
pub async fn background(
    server: &Server,
    transport: Transport,
    counts: &Counts,
    foreground: Foreground,
) -> Result<Value> {
    let bg_total = counts.bg_tasks as i64 * counts.bg_n;
    let mut latencies = Samples::default();
    let (mut totals, mut fg_counts) = (Vec::new(), Vec::new());
    let mut exact = true;
    let (mut server_cpu, mut client_cpu, mut events) = (0.0, 0.0, 0);
    for _ in 0..counts.d_reps {
        let mut session = Session::open(transport, server.addr).await?;
        let mut other = match foreground {
            Foreground::OtherSession => Some(Session::open(transport, server.addr).await?),
            _ => None,
        };
        let meter = Meter::start(server);
        let start = Instant::now();
        for _ in 0..counts.bg_tasks {
            session
                .send(handler::BG_INCREMENT, json!(counts.bg_n))
                .await?;
        }
        let mut fg_done = 0i64;
        if foreground != Foreground::None {
            loop {
                let seq = fg_done;
                let tab = other.as_mut().unwrap_or(&mut session);
                latencies.push(
                    tab.round_trip(handler::INCREMENT_TAGGED, json!(seq), move |view| {
                        view.last_seq >= seq
                    })
                    .await?,
                );
                fg_done += 1;
                let own = if other.is_none() { fg_done } else { 0 };
                if session.view().max_count >= bg_total + own {
                    break;
                }
            }
        }
        let expected = bg_total + if other.is_none() { fg_done } else { 0 };
        let done = session
            .until(|view| view.count >= expected, Duration::from_secs(300))
            .await?;
        let metered = meter.stop(server);
        // Nothing beyond the expected value may arrive afterwards.
        sleep(Duration::from_millis(500)).await;
        let last = session.view();
        exact &= last.count == expected
            && last.max_count == expected
            && other.as_ref().is_none_or(|o| o.view().count == fg_done);
        totals.push((done.at - start).as_secs_f64());
        fg_counts.push(fg_done);
        server_cpu += metered.server_cpu_s;
        client_cpu += metered.client_cpu_s;
        events += bg_total + fg_done;
    }
    totals.sort_by(f64::total_cmp);
    let median = totals[totals.len() / 2];
    let mut row = json!({
        "test": match foreground {
            Foreground::None => "d bg only",
            Foreground::SameSession => "d bg + fg RT same sess",
            Foreground::OtherSession => "d bg + fg RT other sess",
        },
        "n": bg_total,
        "reps": counts.d_reps,
        "bg_tasks": counts.bg_tasks,
        "bg_per_task": counts.bg_n,
        "total_s": median,
        "total_s_all": totals,
        "events_per_s": bg_total as f64 / median,
        "exact": exact,
        "server_cpu_ms_per_event": 1000.0 * server_cpu / events as f64,
        "client_cpu_s": client_cpu,
    });
    if foreground != Foreground::None {
        row["fg_round_trips_per_rep"] = json!(fg_counts);
        row["fg_samples"] = json!(latencies.len());
        row["p50_ms"] = json!(latencies.percentile(50.0));
        row["p99_ms"] = json!(latencies.percentile(99.0));
        row["max_ms"] = json!(latencies.max());
    }
    Ok(row)
}

/// e: a slow handler (foreground, or a background task) and right after it
/// a tagged increment: how long the increment takes.
pub async fn after_slow(
    server: &Server,
    transport: Transport,
    ms: u64,
    in_background: bool,
) -> Result<Value> {
    let mut session = Session::open(transport, server.addr).await?;
    let slow = if in_background {
        handler::BG_SLOW
    } else {
        handler::SLOW
    };
    let start = Instant::now();
    session.send(slow, json!(ms)).await?;
    let sent = Instant::now();
    session.send(handler::INCREMENT_TAGGED, json!(1)).await?;
    let tagged = session
        .until(|view| view.last_seq == 1, Duration::from_secs(60))
        .await?;
    let both = session
        .until(|view| view.count >= 2, Duration::from_secs(60))
        .await?;
    sleep(Duration::from_millis(200)).await;
    let last = session.view();
    let name = if in_background { "bg_slow" } else { "slow" };
    Ok(json!({
        "test": format!("e {name}({ms}) then increment"),
        "n": 2,
        "increment_latency_ms": (tagged.at - sent).as_secs_f64() * 1000.0,
        "slow_done_ms": (both.at - start).as_secs_f64() * 1000.0,
        "final_count": last.count,
        "exact": last.max_count == 2,
    }))
}

/// f: `n` sessions, each hydrated (stream open) with one round trip, held
/// open; server RSS before, while connected, after they disconnect, and
/// after the idle TTL has freed them (the server must run with a short
/// `STATESIDE_IDLE_TTL`, given here as `ttl`).
pub async fn memory(
    server: &Server,
    transport: Transport,
    n: usize,
    batch: usize,
    ttl: Duration,
) -> Result<Value> {
    sleep(Duration::from_secs(1)).await;
    let rss_before = server.rss_mib();
    let started = Instant::now();
    let mut sessions = Vec::with_capacity(n);
    while sessions.len() < n {
        let size = batch.min(n - sessions.len());
        let mut chunk =
            try_join_all((0..size).map(|_| Session::open(transport, server.addr))).await?;
        try_join_all(chunk.iter_mut().map(Session::increment)).await?;
        // An idle tab keeps its stream; its event connection is closed, as
        // a browser's idle keep-alive would be.
        chunk.iter().for_each(Session::close_posts);
        sessions.extend(chunk);
    }
    let setup = started.elapsed();
    let exact = sessions.iter().all(|session| session.view().count == 1);
    let tokens: Vec<String> = sessions.iter().map(|s| s.token().to_owned()).collect();
    sleep(Duration::from_secs(2)).await;
    let rss_connected = server.rss_mib();
    drop(sessions);
    let disconnected = Instant::now();
    sleep(Duration::from_secs(3)).await;
    let rss_disconnected = server.rss_mib();
    let freed_after = wait_until_expired(server.addr, &tokens, ttl, disconnected).await?;
    let rss_expired = server.rss_mib();
    let per_session = |mib: f64| 1024.0 * (mib - rss_before) / n as f64;
    Ok(json!({
        "test": "f memory",
        "n": n,
        "setup_s": setup.as_secs_f64(),
        "idle_ttl_s": ttl.as_secs_f64(),
        "worker_rss_before_mib": rss_before,
        "worker_rss_connected_mib": rss_connected,
        "worker_rss_after_disconnect_mib": rss_disconnected,
        "worker_rss_after_expiry_mib": rss_expired,
        "kib_per_session_connected": per_session(rss_connected),
        "kib_per_session_after_disconnect": per_session(rss_disconnected),
        "kib_per_session_after_expiry": per_session(rss_expired),
        "all_expired_after_disconnect_s": freed_after.map(|d| d.as_secs_f64()),
        "exact": exact && freed_after.is_some(),
    }))
}

/// Waits past the TTL, then checks that every token's stream answers 404
/// (the session is gone); returns how long after `since` that was known. A probe that finds a
/// session alive also touches it, so each retry waits a whole TTL again.
async fn wait_until_expired(
    addr: SocketAddr,
    tokens: &[String],
    ttl: Duration,
    since: Instant,
) -> Result<Option<Duration>> {
    // The engine sweeps every ttl/4: one TTL and two sweeps is enough.
    let pause = ttl + ttl / 2 + Duration::from_millis(200);
    let mut left = tokens;
    // Give up only after half a minute, however short the TTL.
    let attempts = (30.0 / pause.as_secs_f64()).ceil().max(4.0) as usize;
    for _ in 0..attempts {
        sleep(pause).await;
        let mut conn = Conn::open(addr).await?;
        while let Some(token) = left.first() {
            match conn.get(&format!("{STREAM_PATH}?token={token}")).await {
                Err(error) if error.downcast_ref() == Some(&ProtocolError::UnknownSession) => {
                    left = &left[1..]
                }
                // Alive: that request opened a stream, which the dropped
                // connection closes again.
                _ => break,
            }
        }
        if left.is_empty() {
            return Ok(Some(since.elapsed()));
        }
    }
    Ok(None)
}

/// g: `items` append round trips; the size of the update for the last one.
pub async fn list_append(server: &Server, transport: Transport, items: usize) -> Result<Value> {
    let mut session = Session::open(transport, server.addr).await?;
    let mut latencies = Samples::default();
    let mut firsts = Samples::default();
    let mut lasts = Samples::default();
    let meter = Meter::start(server);
    for i in 0..items {
        let latency = session
            .round_trip(
                handler::APPEND_ITEM,
                json!(format!("item-{i:05}")),
                |view| view.items > i,
            )
            .await?;
        latencies.push(latency);
        if i < items / 10 {
            firsts.push(latency);
        }
        if i >= items - items / 10 {
            lasts.push(latency);
        }
    }
    let metered = meter.stop(server);
    let last: View = session.view();
    Ok(json!({
        "test": "g append_item RT",
        "n": items,
        "total_s": metered.wall.as_secs_f64(),
        "events_per_s": items as f64 / metered.wall.as_secs_f64(),
        "p50_ms": latencies.percentile(50.0),
        "p99_ms": latencies.percentile(99.0),
        "first_p50_ms(1st 10%)": firsts.percentile(50.0),
        "last_p50_ms(last 10%)": lasts.percentile(50.0),
        "last_delta_bytes": last.update_bytes,
        "last_ops_bytes": last.ops_bytes,
        "exact": last.items == items,
        "server_cpu_ms_per_event": 1000.0 * metered.server_cpu_s / items as f64,
    }))
}

/// g100k: `appends` append round trips on a list already `size` items long
/// (issue 15); the size of the update for the last one. The list is filled
/// first with `append_item` in the browser client's batches, each awaited
/// (Reflex's side, `bench/reflex/g100k.py`, fills it with one `set_items`:
/// its appends resend the whole list, so filling by appends would take
/// hours there). Items are named as in g: `item-00000` to `item-99999`,
/// then `item-100000` and on for the timed appends.
pub async fn list_append_at(
    server: &Server,
    transport: Transport,
    size: usize,
    appends: usize,
) -> Result<Value> {
    let mut session = Session::open(transport, server.addr).await?;
    let fill = Instant::now();
    let names: Vec<Value> = (0..size).map(|i| json!(format!("item-{i:05}"))).collect();
    for (batch, chunk) in names.chunks(CLIENT_BATCH).enumerate() {
        let events: Vec<(&str, Value)> = chunk
            .iter()
            .map(|name| (handler::APPEND_ITEM, name.clone()))
            .collect();
        session.send_batch(&events).await?;
        let target = batch * CLIENT_BATCH + chunk.len();
        session
            .until(|view| view.items >= target, Duration::from_secs(120))
            .await?;
    }
    let fill_s = fill.elapsed().as_secs_f64();
    let mut latencies = Samples::default();
    let meter = Meter::start(server);
    for i in size..size + appends {
        let latency = session
            .round_trip(
                handler::APPEND_ITEM,
                json!(format!("item-{i:05}")),
                |view| view.items > i,
            )
            .await?;
        latencies.push(latency);
    }
    let metered = meter.stop(server);
    let last: View = session.view();
    Ok(json!({
        "test": "g100k append_item RT",
        "n": appends,
        "list_items": size,
        "fill_s": fill_s,
        "total_s": metered.wall.as_secs_f64(),
        "events_per_s": appends as f64 / metered.wall.as_secs_f64(),
        "p50_ms": latencies.percentile(50.0),
        "p99_ms": latencies.percentile(99.0),
        "max_ms": latencies.max(),
        "last_delta_bytes": last.update_bytes,
        "last_ops_bytes": last.ops_bytes,
        "exact": last.items == size + appends,
        "server_cpu_ms_per_event": 1000.0 * metered.server_cpu_s / appends as f64,
    }))
}
