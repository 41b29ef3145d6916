//! Two server processes on two ports sharing one Redis act as one app: a
//! tab whose stream is on instance A sends its events through instance B,
//! and sees their patches.

#[path = "../../crates/stateside/tests/support/redis_server.rs"]
#[allow(dead_code)] // the engine's tests use all of it
mod redis_server;

use std::{
    net::TcpListener,
    process::{Child, Command, Stdio},
    time::Duration,
};

use futures::StreamExt;
use redis_server::RedisServer;
use serde_json::{Value, json};
use stateside_wire::{Document, ServerMessage};

/// A `server` process on a free port, killed on drop.
struct Instance {
    child: Child,
    base: String,
}

impl Instance {
    async fn start(store: &str) -> Self {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new(env!("CARGO_BIN_EXE_server"))
            .args(["--store", store])
            .env("LEPTOS_SITE_ADDR", format!("127.0.0.1:{port}"))
            .stdout(Stdio::null())
            .spawn()
            .expect("the server binary starts");
        let instance = Self {
            child,
            base: format!("http://127.0.0.1:{port}"),
        };
        for _ in 0..400 {
            if reqwest::get(format!("{}/healthz", instance.base))
                .await
                .is_ok()
            {
                return instance;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("the server did not answer on {}", instance.base);
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tab_streaming_from_one_instance_sees_events_sent_through_another() {
    let redis = RedisServer::start();
    let (a, b) = (
        Instance::start(&redis.url()).await,
        Instance::start(&redis.url()).await,
    );
    let http = reqwest::Client::new();
    let opened: Value = http
        .post(format!("{}/stateside/open", a.base))
        .header("content-type", "application/x-www-form-urlencoded")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = opened["token"].as_str().unwrap().to_owned();
    let first_seq = opened["next_seq"].as_u64().unwrap();
    let stream = http
        .get(format!("{}/stateside/stream?token={token}", a.base))
        .send()
        .await
        .unwrap();
    assert!(stream.status().is_success());
    let mut frames = stream.bytes_stream();

    const EVENTS: u64 = 20;
    let events: Vec<Value> = (0..EVENTS)
        .map(|i| json!({ "seq": first_seq + i, "handler": "bench/increment", "args": null }))
        .collect();
    // B learns of the session from Redis once A has saved it.
    let receipts = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            let reply = http
                .post(format!("{}/stateside/send", b.base))
                .json(&json!({ "token": token, "events": events }))
                .send()
                .await
                .unwrap();
            if reply.status().is_success() {
                break reply.json::<Vec<Value>>().await.unwrap();
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .expect("B accepts the events");
    assert!(
        receipts.iter().all(|receipt| receipt == "Accepted"),
        "{receipts:?}"
    );

    // A's stream carries every patch, in version order, and the acks.
    let mut document = Document::default();
    let mut buffer = Vec::new();
    tokio::time::timeout(Duration::from_secs(30), async {
        while document.acked() < first_seq + EVENTS - 1 {
            let chunk = frames.next().await.expect("the stream stays open").unwrap();
            buffer.extend_from_slice(&chunk);
            while let Some(end) = buffer.windows(2).position(|pair| pair == b"\n\n") {
                let frame: Vec<u8> = buffer.drain(..end + 2).collect();
                for data in String::from_utf8_lossy(&frame)
                    .lines()
                    .filter_map(|line| line.strip_prefix("data:"))
                {
                    let message: ServerMessage = serde_json::from_str(data.trim()).unwrap();
                    document.apply(&message).expect("patches apply in order");
                }
            }
        }
    })
    .await
    .expect("every event acknowledged on A's stream");
    let bench: app::bench::Bench = document.state().unwrap();
    assert_eq!(bench.count, EVENTS as i64);
}
