//! h: a hostile neighbour. 100 honest sessions run workload c alone, then
//! again while one client, from an address of its own (127.0.0.2), does the
//! worst it can through the public protocol:
//!
//! - opens sessions as fast as it can (HTTP `open`);
//! - calls every handler, the demo's and the benchmark's, with extreme
//!   arguments, and names that do not exist, in batches, on sessions of
//!   its own;
//! - floods one session with events;
//! - opens sockets and never reads them.
//!
//! The server runs its default limits (10 new sessions a second per
//! address), except that one address may open 200 sessions at once and
//! hold 200 streams: the honest sessions all come
//! from 127.0.0.1, as an office behind one NAT would. The row gives the
//! honest p99 alone and beside the neighbour, their ratio, the server's
//! peak RSS, and what the neighbour got through.

use std::{
    net::{IpAddr, Ipv4Addr, SocketAddr},
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
    time::Duration,
};

use anyhow::Result;
use bytes::Bytes;
use futures::SinkExt;
use serde_json::{Value, json};
use stateside_wire::{ClientEvent, OPEN_PATH, SOCKET_PATH, Upward, socket_frame};
use tokio::{net::TcpSocket, task::JoinSet};
use tokio_tungstenite::{client_async, tungstenite::Message};

use crate::{conn, process::Server, transport::Transport, workloads};

/// Where the neighbour connects from.
const NEIGHBOUR: IpAddr = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2));

/// The limits the server runs with for this workload (see the module docs).
pub const SERVER_ENV: [(&str, &str); 3] = [
    ("STATESIDE_OPEN_RATE", "10"),
    ("STATESIDE_OPEN_BURST", "200"),
    ("STATESIDE_MAX_STREAMS_PER_IP", "200"),
];

/// Every handler the app registers, with the worst arguments for each.
fn extreme_calls() -> Vec<(&'static str, Value)> {
    let huge = "x".repeat(60 * 1024);
    vec![
        ("bench/bg_increment", json!(u32::MAX)),
        ("bench/slow", json!(u64::MAX)),
        ("bench/bg_slow", json!(u64::MAX)),
        ("bench/append_item", json!(huge)),
        ("bench/increment_tagged", json!(i64::MIN)),
        ("lorem/new_task", Value::Null),
        ("lorem/toggle", json!(u32::MAX)),
        ("lorem/kill", json!(u32::MAX)),
        ("random/set_range", json!([i32::MIN, i32::MAX])),
        ("random/set_delay", json!(u32::MAX)),
        ("random/background/set_running", json!(true)),
        ("random/chain/set_running", json!(true)),
        ("dashboard/start", json!("Job")),
        ("dashboard/engine_sample", json!(u64::MAX)),
        ("home/count_in_background", Value::Null),
        ("home/slow_increment", Value::Null),
        ("actions/send", json!({ "Redirect": "javascript:alert(1)" })),
        ("no/such/handler", Value::Null),
        ("home/increment", json!({ "not": "unit" })),
    ]
}

#[derive(Default)]
struct Got {
    opens_taken: AtomicU64,
    opens_refused: AtomicU64,
    sockets_taken: AtomicU64,
    sockets_refused: AtomicU64,
    events_sent: AtomicU64,
}

pub async fn neighbour_run(server: &Server, clients: usize, per_client: usize) -> Result<Value> {
    let alone = workloads::many_sessions(server, Transport::Socket, clients, per_client).await?;
    let rss_before = server.rss_mib();
    let got = Arc::new(Got::default());
    let stop = Arc::new(AtomicBool::new(false));
    let mut neighbour = JoinSet::new();
    neighbour.spawn(open_flood(server.addr, Arc::clone(&got), Arc::clone(&stop)));
    for _ in 0..4 {
        neighbour.spawn(call_flood(server.addr, Arc::clone(&got), Arc::clone(&stop)));
    }
    neighbour.spawn(unread_sockets(
        server.addr,
        Arc::clone(&got),
        Arc::clone(&stop),
    ));
    // Let it ramp up before the honest sessions start.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let mut rss_peak = server.rss_mib();
    let beside = workloads::many_sessions(server, Transport::Socket, clients, per_client).await?;
    rss_peak = rss_peak.max(server.rss_mib());
    tokio::time::sleep(Duration::from_secs(1)).await;
    rss_peak = rss_peak.max(server.rss_mib());
    stop.store(true, Ordering::SeqCst);
    neighbour.shutdown().await;
    let p99 = |row: &Value| row["p99_ms"].as_f64().unwrap_or(f64::NAN);
    let count = |counter: &AtomicU64| counter.load(Ordering::SeqCst);
    Ok(json!({
        "test": "h hostile neighbour",
        "n": clients * per_client,
        "p99_alone_ms": p99(&alone),
        "p99_ms": p99(&beside),
        "p99_ratio": p99(&beside) / p99(&alone),
        "events_per_s_alone": alone["events_per_s"],
        "events_per_s": beside["events_per_s"],
        "exact": alone["exact"].as_bool() == Some(true) && beside["exact"].as_bool() == Some(true),
        "server_rss_before_mib": rss_before,
        "server_rss_peak_mib": rss_peak,
        "neighbour_opens_taken": count(&got.opens_taken),
        "neighbour_opens_refused": count(&got.opens_refused),
        "neighbour_sockets_taken": count(&got.sockets_taken),
        "neighbour_sockets_refused": count(&got.sockets_refused),
        "neighbour_events_sent": count(&got.events_sent),
    }))
}

/// A TCP connection to `addr` from the neighbour's own address.
async fn connect(addr: SocketAddr) -> std::io::Result<tokio::net::TcpStream> {
    let socket = TcpSocket::new_v4()?;
    socket.bind(SocketAddr::new(NEIGHBOUR, 0))?;
    socket.connect(addr).await
}

/// New sessions over HTTP, back to back.
async fn open_flood(addr: SocketAddr, got: Arc<Got>, stop: Arc<AtomicBool>) {
    while !stop.load(Ordering::SeqCst) {
        let Ok(stream) = connect(addr).await else {
            continue;
        };
        let Ok(mut conn) = conn::Conn::over(stream).await else {
            continue;
        };
        while !stop.load(Ordering::SeqCst) {
            match conn.post(OPEN_PATH, conn::FORM, Bytes::new()).await {
                Ok(_) => got.opens_taken.fetch_add(1, Ordering::Relaxed),
                Err(_) => got.opens_refused.fetch_add(1, Ordering::Relaxed),
            };
        }
    }
}

/// A session of its own, sent every extreme call and a flood of
/// increments, batch after batch, never reading an answer.
async fn call_flood(addr: SocketAddr, got: Arc<Got>, stop: Arc<AtomicBool>) {
    let calls = extreme_calls();
    let mut seq = 1;
    while !stop.load(Ordering::SeqCst) {
        let Some(mut socket) = hello(addr, &got).await else {
            tokio::time::sleep(Duration::from_millis(10)).await;
            continue;
        };
        while !stop.load(Ordering::SeqCst) {
            let mut events: Vec<ClientEvent> = calls
                .iter()
                .map(|(handler, args)| event(handler, args.clone(), &mut seq))
                .collect();
            events.extend((0..200).map(|_| event("bench/increment", Value::Null, &mut seq)));
            let sent = events.len() as u64;
            let frame = socket_frame::encode(&Upward::Events(events));
            if socket.send(Message::binary(frame)).await.is_err() {
                break;
            }
            got.events_sent.fetch_add(sent, Ordering::Relaxed);
        }
    }
}

/// Sockets that say hello and are never read again.
async fn unread_sockets(addr: SocketAddr, got: Arc<Got>, stop: Arc<AtomicBool>) {
    let mut held = Vec::new();
    while !stop.load(Ordering::SeqCst) {
        match hello(addr, &got).await {
            Some(socket) => held.push(socket),
            None => tokio::time::sleep(Duration::from_millis(5)).await,
        }
    }
}

type Socket = tokio_tungstenite::WebSocketStream<tokio::net::TcpStream>;

/// A new session on a socket from the neighbour's address; counted.
async fn hello(addr: SocketAddr, got: &Got) -> Option<Socket> {
    let taken = async {
        let stream = connect(addr).await.ok()?;
        let (mut socket, _) = client_async(format!("ws://{addr}{SOCKET_PATH}"), stream)
            .await
            .ok()?;
        let hello = Upward::Hello {
            resume: None,
            since: None,
        };
        socket
            .send(Message::binary(socket_frame::encode(&hello)))
            .await
            .ok()?;
        Some(socket)
    }
    .await;
    let counter = if taken.is_some() {
        &got.sockets_taken
    } else {
        &got.sockets_refused
    };
    counter.fetch_add(1, Ordering::Relaxed);
    taken
}

fn event(handler: &str, args: Value, seq: &mut u64) -> ClientEvent {
    let event = ClientEvent {
        seq: *seq,
        handler: handler.to_owned(),
        args,
    };
    *seq += 1;
    event
}
