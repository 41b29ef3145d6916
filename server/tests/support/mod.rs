//! Real server processes and a tab that speaks the real protocol to them,
//! over real sockets: what the protocol tests and the multi-instance tests
//! share.

#![allow(dead_code)] // each test binary uses its own subset

use std::{
    net::TcpListener,
    process::{Child, Command, Stdio},
    time::Duration,
};

use futures::{Stream, StreamExt};
use serde::Serialize;
use serde_json::{Value, json};
use stateside_wire::{ClientEvent, Document, HandlerId, ServerMessage};

/// A `server` process on a free port, killed on drop.
pub struct Instance {
    child: Child,
    pub base: String,
}

impl Instance {
    pub async fn start(args: &[&str]) -> Self {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new(env!("CARGO_BIN_EXE_server"))
            .args(args)
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

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One tab: a session token, its next seq, and the document it mirrors from
/// the SSE stream with the wire crate's own apply, as the browser does.
pub struct Tab {
    pub http: reqwest::Client,
    pub token: String,
    pub next_seq: u64,
    pub document: Document,
    /// Every message this tab's current stream delivered, in order.
    pub received: Vec<ServerMessage>,
    stream: Option<Frames>,
}

type Frames = std::pin::Pin<Box<dyn Stream<Item = reqwest::Result<bytes::Bytes>> + Send>>;

impl Tab {
    /// Opens a new session on `instance` (without a stream yet).
    pub async fn open(instance: &Instance) -> Self {
        let http = reqwest::Client::new();
        let opened: Value = http
            .post(instance.url("/stateside/open"))
            .header("content-type", "application/x-www-form-urlencoded")
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        Self {
            http,
            token: opened["token"].as_str().unwrap().to_owned(),
            next_seq: opened["next_seq"].as_u64().unwrap(),
            document: Document::default(),
            received: Vec::new(),
            stream: None,
        }
    }

    /// Another view of an existing session, as a second connection would be.
    pub fn join(token: &str) -> Self {
        Self {
            http: reqwest::Client::new(),
            token: token.to_owned(),
            next_seq: 0,
            document: Document::default(),
            received: Vec::new(),
            stream: None,
        }
    }

    /// (Re)connects the stream, as from version `since` (or fresh).
    pub async fn connect(&mut self, instance: &Instance, since: Option<u64>) {
        let mut url = instance.url(&format!("/stateside/stream?token={}", self.token));
        if let Some(since) = since {
            url.push_str(&format!("&since={since}"));
        }
        let response = self.http.get(url).send().await.unwrap();
        assert!(response.status().is_success(), "{}", response.status());
        self.received.clear();
        self.stream = Some(Box::pin(response.bytes_stream()));
    }

    /// An event with this tab's next seq.
    pub fn event<A: Serialize>(&mut self, handler: HandlerId<A>, args: A) -> ClientEvent {
        let mut event = handler.call(&args).unwrap();
        event.seq = self.next_seq;
        self.next_seq += 1;
        event
    }

    /// POSTs events as they are, returning the receipts as JSON.
    pub async fn send(&self, instance: &Instance, events: &[ClientEvent]) -> Value {
        self.http
            .post(instance.url("/stateside/send"))
            .json(&json!({ "token": self.token, "events": events }))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    /// Reads the stream until `done` holds for this tab, applying every
    /// message in order; a gap or a patch that does not apply fails.
    pub async fn until(&mut self, done: impl Fn(&Tab) -> bool) {
        let mut buffer = Vec::new();
        tokio::time::timeout(Duration::from_secs(20), async {
            while !done(self) {
                let frames = self.stream.as_mut().expect("connected");
                let chunk = frames.next().await.expect("the stream stays open").unwrap();
                buffer.extend_from_slice(&chunk);
                while let Some(end) = buffer.windows(2).position(|pair| pair == b"\n\n") {
                    let frame: Vec<u8> = buffer.drain(..end + 2).collect();
                    for data in String::from_utf8_lossy(&frame)
                        .lines()
                        .filter_map(|line| line.strip_prefix("data:"))
                    {
                        let message: ServerMessage = serde_json::from_str(data.trim()).unwrap();
                        self.document
                            .apply(&message)
                            .expect("messages apply in order");
                        self.received.push(message);
                    }
                }
            }
        })
        .await
        .expect("the condition was reached in time");
    }

    /// Waits until everything sent so far is acknowledged.
    pub async fn settled(&mut self) {
        let target = self.next_seq - 1;
        self.until(|tab| tab.document.acked() >= target).await;
    }
}
