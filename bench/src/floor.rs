//! The loopback floor, measured in the same run against the bare echo
//! (`src/bin/echo.rs`) with messages the size of a real event, over each
//! transport the server speaks, so that every workload row has the figure
//! it cannot beat beside it:
//!
//! - POST + SSE (the fallback): a POST round trip, a POST whose body comes
//!   back on an SSE stream (the shape of one fallback round trip), `n` such
//!   POSTs back to back, and the memory of idle open streams.
//! - The websocket: a round trip of one binary message holding a real
//!   `Upward::Events` frame, `n` of them in flight on one socket (the floor
//!   of a), and the memory of idle open sockets (the floor of f).

use std::{future::Future, time::Duration};

use anyhow::{Context, Result};
use bytes::Bytes;
use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use stateside_wire::{ClientEvent, Upward, socket_frame};
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::Message;

use crate::{
    conn::{Conn, JSON},
    process::Server,
    socket,
    sse::Events,
    stats::{Meter, Metered, Samples},
};

/// What a tab sends for one increment.
fn increment() -> ClientEvent {
    ClientEvent {
        seq: 1,
        handler: "bench/increment".to_owned(),
        args: Value::Null,
    }
}

/// About the size of one `send_events` body with one increment in it.
fn post_body() -> Bytes {
    let body = json!({
        "token": "00000000000000000000000000000000",
        "events": [increment()],
    });
    Bytes::from(body.to_string())
}

/// Exactly the message a tab sends on its socket for one increment.
fn socket_message() -> Bytes {
    Bytes::from(socket_frame::encode(&Upward::Events(vec![increment()])))
}

/// Every floor row: `rt` round trips, bursts of `n`, `idle` connections.
pub async fn measure(echo: &Server, rt: usize, n: usize, idle: usize) -> Result<Vec<Value>> {
    let mut rows = websocket(echo, rt, n, idle).await?;
    rows.extend(post_and_sse(echo, rt, n, idle).await?);
    Ok(rows)
}

/// A row of round-trip latencies.
fn round_trips(test: &str, samples: &Samples, metered: &Metered) -> Value {
    json!({
        "test": test,
        "n": samples.len(),
        "p50_ms": samples.percentile(50.0),
        "p99_ms": samples.percentile(99.0),
        "max_ms": samples.max(),
        "server_cpu_ms_per_event": 1000.0 * metered.server_cpu_s / samples.len() as f64,
        "exact": true,
    })
}

/// A row of `n` messages in flight, sent from `start` until `done`.
fn pipelined(test: &str, n: usize, start: Instant, done: Instant, metered: &Metered) -> Value {
    let total = (done - start).as_secs_f64();
    json!({
        "test": test,
        "n": n,
        "total_s": total,
        "events_per_s": n as f64 / total,
        "server_cpu_ms_per_event": 1000.0 * metered.server_cpu_s / n as f64,
        "exact": true,
    })
}

/// The echo's RSS growth per connection while `n` connections, each made
/// by `open`, are held open and idle.
async fn idle_memory<T, F: Future<Output = Result<T>>>(
    echo: &Server,
    test: &str,
    n: usize,
    mut open: impl FnMut(usize) -> F,
) -> Result<Value> {
    let rss_before = echo.rss_mib();
    let mut held = Vec::with_capacity(n);
    for i in 0..n {
        held.push(open(i).await?);
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    let rss_connected = echo.rss_mib();
    drop(held);
    Ok(json!({
        "test": test,
        "n": n,
        "rss_before_mib": rss_before,
        "rss_connected_mib": rss_connected,
        "kib_per_session_connected": 1024.0 * (rss_connected - rss_before) / n as f64,
        "exact": true,
    }))
}

async fn websocket(echo: &Server, rt: usize, n: usize, idle: usize) -> Result<Vec<Value>> {
    let message = socket_message();
    let (mut sink, mut messages) = socket::connect(echo.addr, "/ws").await?.split();
    let mut latencies = Samples::default();
    let meter = Meter::start(echo);
    for _ in 0..rt {
        let start = Instant::now();
        sink.send(Message::binary(message.clone())).await?;
        messages.next().await.context("websocket closed")??;
        latencies.push(start.elapsed());
    }
    let rt_metered = meter.stop(echo);

    let meter = Meter::start(echo);
    let start = Instant::now();
    let reader = tokio::spawn(async move {
        for _ in 0..n {
            messages.next().await.context("websocket closed")??;
        }
        anyhow::Ok(Instant::now())
    });
    for _ in 0..n {
        sink.send(Message::binary(message.clone())).await?;
    }
    let done = reader.await??;
    let burst_metered = meter.stop(echo);

    // Each idle socket has carried one message, as a hydrated tab's has.
    let memory = idle_memory(echo, "floor: bare axum idle websocket memory", idle, |_| {
        let message = message.clone();
        async move {
            let mut socket = socket::connect(echo.addr, "/ws").await?;
            socket.send(Message::binary(message)).await?;
            socket.next().await.context("websocket closed")??;
            anyhow::Ok(socket)
        }
    })
    .await?;
    Ok(vec![
        round_trips(
            "floor: bare axum websocket echo RT",
            &latencies,
            &rt_metered,
        ),
        pipelined(
            "floor: bare axum websocket echo pipelined",
            n,
            start,
            done,
            &burst_metered,
        ),
        memory,
    ])
}

async fn post_and_sse(echo: &Server, rt: usize, n: usize, idle: usize) -> Result<Vec<Value>> {
    let body = post_body();
    let mut posts = Conn::open(echo.addr).await?;

    let mut post_only = Samples::default();
    let meter = Meter::start(echo);
    for _ in 0..rt {
        let start = Instant::now();
        posts.post("/echo", JSON, body.clone()).await?;
        post_only.push(start.elapsed());
    }
    let post_metered = meter.stop(echo);

    let mut events = Events::new(
        Conn::open(echo.addr)
            .await?
            .get("/stream?token=floor")
            .await?,
    );
    let mut via_stream = Samples::default();
    let meter = Meter::start(echo);
    for _ in 0..rt {
        let start = Instant::now();
        posts.post("/send?token=floor", JSON, body.clone()).await?;
        events.next().await?.context("echo stream ended")?;
        via_stream.push(start.elapsed());
    }
    let stream_metered = meter.stop(echo);

    let meter = Meter::start(echo);
    let start = Instant::now();
    let reader = tokio::spawn(async move {
        for _ in 0..n {
            events.next().await?.context("echo stream ended")?;
        }
        anyhow::Ok(Instant::now())
    });
    for _ in 0..n {
        posts.post("/send?token=floor", JSON, body.clone()).await?;
    }
    let done = reader.await??;
    let burst_metered = meter.stop(echo);

    let memory = idle_memory(echo, "floor: bare axum idle SSE stream memory", idle, |i| {
        let addr = echo.addr;
        async move {
            let mut conn = Conn::open(addr).await?;
            conn.get(&format!("/stream?token=idle-{i}")).await
        }
    })
    .await?;
    Ok(vec![
        round_trips("floor: bare axum POST echo RT", &post_only, &post_metered),
        round_trips(
            "floor: bare axum POST -> SSE RT",
            &via_stream,
            &stream_metered,
        ),
        pipelined(
            "floor: bare axum POST -> SSE pipelined",
            n,
            start,
            done,
            &burst_metered,
        ),
        memory,
    ])
}
