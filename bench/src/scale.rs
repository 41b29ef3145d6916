//! The scale run, optional and slow (a minute by default): many tabs
//! against the real server, each sending one increment a second and waiting
//! for its update. Their events share a pool of keep-alive connections, as
//! tabs behind a proxy do, so the sockets are one stream per tab plus the
//! pool.
//!
//! Its companion, 10,000 background tasks locking once a second, drives the
//! engine in-process, so it is an engine bench:
//! `crates/stateside/benches/tasks.rs`.

use std::{sync::Arc, time::Duration};

use anyhow::Result;
use futures::{StreamExt, future::try_join_all, stream};
use serde_json::{Value, json};
use tokio::time::{Instant, MissedTickBehavior, interval_at};

use crate::{
    client::Session,
    conn::Pool,
    process::Server,
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
