//! The loopback floor, measured in the same run against the bare echo
//! (`src/bin/echo.rs`) with bodies the size of a real event: a POST round
//! trip, a POST whose body comes back on an SSE stream (the shape of one
//! Stateside round trip), `n` such POSTs back to back, and the memory of
//! idle open streams (what f's hydrated tabs cost before any engine). The
//! same round trip and burst over a websocket show what that transport
//! would start from.

use anyhow::{Context, Result};
use bytes::Bytes;
use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::{net::TcpStream, time::Instant};
use tokio_tungstenite::{client_async, tungstenite::Message};

use crate::{
    conn::{Conn, JSON},
    process::Server,
    sse::Events,
    stats::{Meter, Samples},
};

/// About the size of one `send_events` body with one increment in it.
fn event_body() -> Bytes {
    let body = json!({
        "token": "00000000000000000000000000000000",
        "events": [{ "seq": 1, "handler": "bench/increment", "args": null }],
    });
    Bytes::from(body.to_string())
}

pub async fn measure(echo: &Server, rt: usize, n: usize, streams: usize) -> Result<Vec<Value>> {
    let body = event_body();
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
    let pipelined_metered = meter.stop(echo);
    let total = (done - start).as_secs_f64();

    let row = |test: &str, samples: &Samples, metered: &crate::stats::Metered| {
        json!({
            "test": test,
            "n": rt,
            "p50_ms": samples.percentile(50.0),
            "p99_ms": samples.percentile(99.0),
            "max_ms": samples.max(),
            "server_cpu_ms_per_event": 1000.0 * metered.server_cpu_s / rt as f64,
            "exact": true,
        })
    };
    let rss_before = echo.rss_mib();
    let mut idle = Vec::with_capacity(streams);
    for i in 0..streams {
        let mut conn = Conn::open(echo.addr).await?;
        idle.push(conn.get(&format!("/stream?token=idle-{i}")).await?);
    }
    tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    let kib_per_stream = 1024.0 * (echo.rss_mib() - rss_before) / streams as f64;
    drop(idle);

    let (ws_rt, ws_metered, ws_burst) = websocket(echo, &body, rt, n).await?;

    Ok(vec![
        row("floor: bare axum POST echo RT", &post_only, &post_metered),
        row("floor: bare axum websocket echo RT", &ws_rt, &ws_metered),
        json!({
            "test": "floor: bare axum websocket echo pipelined",
            "n": n,
            "total_s": ws_burst,
            "events_per_s": n as f64 / ws_burst,
            "exact": true,
        }),
        row(
            "floor: bare axum POST -> SSE RT",
            &via_stream,
            &stream_metered,
        ),
        json!({
            "test": "floor: bare axum POST -> SSE pipelined",
            "n": n,
            "total_s": total,
            "events_per_s": n as f64 / total,
            "server_cpu_ms_per_event": 1000.0 * pipelined_metered.server_cpu_s / n as f64,
            "exact": true,
        }),
        json!({
            "test": "floor: bare axum idle SSE stream memory",
            "n": streams,
            "kib_per_session_connected": kib_per_stream,
            "exact": true,
        }),
    ])
}

/// `rt` round trips over one websocket, then `n` messages sent back to
/// back: the latencies, their meter, and the burst's seconds.
async fn websocket(
    echo: &Server,
    body: &Bytes,
    rt: usize,
    n: usize,
) -> Result<(Samples, crate::stats::Metered, f64)> {
    let text = String::from_utf8(body.to_vec())?;
    let stream = TcpStream::connect(echo.addr).await?;
    stream.set_nodelay(true)?;
    let (socket, _) = client_async(format!("ws://{}/ws", echo.addr), stream).await?;
    let (mut sink, mut messages) = socket.split();
    let mut latencies = Samples::default();
    let meter = Meter::start(echo);
    for _ in 0..rt {
        let start = Instant::now();
        sink.send(Message::text(text.clone())).await?;
        messages.next().await.context("websocket closed")??;
        latencies.push(start.elapsed());
    }
    let metered = meter.stop(echo);
    let start = Instant::now();
    let reader = tokio::spawn(async move {
        for _ in 0..n {
            messages.next().await.context("websocket closed")??;
        }
        anyhow::Ok(Instant::now())
    });
    for _ in 0..n {
        sink.send(Message::text(text.clone())).await?;
    }
    let done = reader.await??;
    Ok((latencies, metered, (done - start).as_secs_f64()))
}
