//! Real server processes and a tab that speaks the real protocol to them,
//! over real sockets: what the protocol tests and the multi-instance tests
//! share.

#![allow(dead_code)] // each test binary uses its own subset

pub mod socket;

use std::{
    net::TcpListener,
    ops::Deref,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::Duration,
};

use futures::{Stream, StreamExt};
use serde::{Serialize, de::DeserializeOwned};
use stateside_wire::{
    ClientEvent, Document, HandlerId, OPEN_PATH, OpenRequest, ProtocolError, Receipt, SEND_PATH,
    STREAM_PATH, SendRequest, ServerMessage, SessionInfo, testing::Mirror,
};

/// Where a server answers. Tabs hold this, not the [`Instance`], so that
/// they can outlive one process and find the next on the same port.
#[derive(Clone, Debug)]
pub struct Address {
    pub base: String,
}

impl Address {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }
}

/// A `server` process on a free port, killed on drop.
pub struct Instance {
    child: Child,
    port: u16,
    args: Vec<String>,
    /// Extra environment, and where its log (stdout) goes, if kept.
    env: Vec<(String, String)>,
    log: Option<PathBuf>,
    pub address: Address,
}

impl Instance {
    pub async fn start(args: &[&str]) -> Self {
        Self::start_logged(args, &[], None).await
    }

    /// Like [`start`](Self::start), with `env` set, and its log (stdout)
    /// appended to `log` if given.
    pub async fn start_logged(args: &[&str], env: &[(&str, &str)], log: Option<&Path>) -> Self {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let owned = |pairs: &[(&str, &str)]| {
            pairs
                .iter()
                .map(|(key, value)| (key.to_string(), value.to_string()))
                .collect()
        };
        let mut instance = Self {
            child: Command::new("true").spawn().unwrap(),
            port,
            args: args.iter().map(|arg| arg.to_string()).collect(),
            env: owned(env),
            log: log.map(Path::to_path_buf),
            address: Address {
                base: format!("http://127.0.0.1:{port}"),
            },
        };
        instance.child = instance.spawn();
        instance.answering().await;
        instance
    }

    fn spawn(&self) -> Child {
        let stdout = match &self.log {
            Some(path) => Stdio::from(
                std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(path)
                    .expect("the log file opens"),
            ),
            None => Stdio::null(),
        };
        Command::new(env!("CARGO_BIN_EXE_server"))
            .args(&self.args)
            // The tests drive the server through the benchmark's handlers;
            // a test's own `env` may turn them off.
            .env("STATESIDE_BENCH_HANDLERS", "true")
            .envs(self.env.iter().cloned())
            .env("LEPTOS_SITE_ADDR", format!("127.0.0.1:{}", self.port))
            .stdout(stdout)
            .spawn()
            .expect("the server binary starts")
    }

    async fn answering(&self) {
        for _ in 0..400 {
            if reqwest::get(self.url("/healthz")).await.is_ok() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("the server did not answer on {}", self.base);
    }

    /// The server's resident memory, from /proc.
    pub fn rss_mib(&self) -> f64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .unwrap_or_default();
        status
            .lines()
            .find_map(|line| line.strip_prefix("VmRSS:"))
            .and_then(|kib| kib.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
            .map_or(0.0, |kib| kib / 1024.0)
    }

    /// `kill -9`: no shutdown, no last save.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// SIGTERM, as an orchestrator stops a server, and waits until it has
    /// exited (it drains its sessions first).
    pub async fn terminate(&mut self) {
        self.signal_terminate();
        self.exited().await;
    }

    /// Sends SIGTERM, and goes on.
    pub fn signal_terminate(&self) {
        self.signal("TERM");
    }

    /// Sends the signal `name` ("TERM", "STOP", "CONT") to the process.
    pub fn signal(&self, name: &str) {
        let sent = Command::new("kill")
            .args([&format!("-{name}"), &self.child.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(sent.success(), "kill -{name} failed");
    }

    /// Waits until the process has exited.
    pub async fn exited(&mut self) {
        for _ in 0..600 {
            if self.child.try_wait().unwrap().is_some() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("the server did not stop on SIGTERM");
    }

    /// Starts the process again, same port and flags, once the old one is
    /// gone (killed or not).
    pub async fn restart(&mut self) {
        self.kill();
        self.child = self.spawn();
        self.answering().await;
    }
}

/// An instance is used wherever its address is.
impl Deref for Instance {
    type Target = Address;

    fn deref(&self) -> &Address {
        &self.address
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        self.kill();
    }
}

/// One tab: a session token, its next seq, and the document it mirrors from
/// the SSE stream with the wire crate's own apply, as the browser does,
/// checking that every message is exactly the next one.
pub struct Tab {
    pub http: reqwest::Client,
    pub token: String,
    pub next_seq: u64,
    mirror: Mirror,
    /// Every message this tab's current stream delivered, in order.
    pub received: Vec<ServerMessage>,
    stream: Option<Frames>,
    /// Bytes of a frame not complete yet.
    partial: Vec<u8>,
}

type Frames = std::pin::Pin<Box<dyn Stream<Item = reqwest::Result<bytes::Bytes>> + Send>>;

/// Why a tab lost touch with its server: what a client must recover from.
/// The plain methods panic on it; the `try_` ones, for the chaos tests,
/// return it.
#[derive(Debug)]
pub enum Lost {
    Http(reqwest::Error),
    Status(u16),
    /// The server refused the call.
    Refused(ProtocolError),
    StreamEnded,
    TimedOut,
    /// The socket failed below the protocol.
    Socket(String),
}

impl From<reqwest::Error> for Lost {
    fn from(error: reqwest::Error) -> Self {
        Self::Http(error)
    }
}

impl Tab {
    /// Opens a new session on `at` (without a stream yet).
    pub async fn open(at: &Address) -> Self {
        let mut tab = Self::join("");
        tab.reopen(at).await.expect("a session opens");
        tab
    }

    /// Another view of an existing session, as a second connection would be.
    pub fn join(token: &str) -> Self {
        Self {
            http: reqwest::Client::new(),
            token: token.to_owned(),
            next_seq: 0,
            mirror: Mirror::default(),
            received: Vec::new(),
            stream: None,
            partial: Vec::new(),
        }
    }

    /// Asks for this tab's session back (or a new one, with no token yet),
    /// as the browser does on every (re)connect. Returns the server's
    /// `next_seq`; the token is this tab's from then on.
    pub async fn reopen(&mut self, at: &Address) -> Result<u64, Lost> {
        let request = OpenRequest {
            resume: (!self.token.is_empty()).then(|| self.token.clone()),
        };
        let response = self.http.post(at.url(OPEN_PATH)).form(&request).send();
        let opened: SessionInfo = reply(response.await?).await?;
        if self.token.is_empty() {
            self.next_seq = opened.next_seq;
        }
        self.token = opened.token;
        Ok(opened.next_seq)
    }

    /// (Re)connects the stream, as from version `since` (or fresh).
    pub async fn connect(&mut self, at: &Address, since: Option<u64>) {
        self.try_connect(at, since).await.expect("the stream opens");
    }

    pub async fn try_connect(&mut self, at: &Address, since: Option<u64>) -> Result<(), Lost> {
        let mut url = at.url(&format!("{STREAM_PATH}?token={}", self.token));
        if let Some(since) = since {
            url.push_str(&format!("&since={since}"));
        }
        let response = self.http.get(url).send().await?;
        if !response.status().is_success() {
            return Err(Lost::Status(response.status().as_u16()));
        }
        self.received.clear();
        self.partial.clear();
        self.stream = Some(Box::pin(response.bytes_stream()));
        Ok(())
    }

    /// An event with this tab's next seq.
    pub fn event<A: Serialize>(&mut self, handler: HandlerId<A>, args: A) -> ClientEvent {
        let mut event = handler.call(&args).unwrap();
        event.seq = self.next_seq;
        self.next_seq += 1;
        event
    }

    /// POSTs events as they are, returning the receipts.
    pub async fn send(&self, at: &Address, events: &[ClientEvent]) -> Vec<Receipt> {
        self.try_send(at, events).await.expect("the server answers")
    }

    /// Builds the request before it awaits, so the future does not borrow
    /// the tab (whose stream is not `Sync`) and a spawned client can send.
    pub fn try_send(
        &self,
        at: &Address,
        events: &[ClientEvent],
    ) -> impl Future<Output = Result<Vec<Receipt>, Lost>> + Send + 'static {
        let request = self.http.post(at.url(SEND_PATH)).json(&SendRequest {
            token: self.token.clone(),
            events: events.to_vec(),
        });
        async move { reply(request.send().await?).await }
    }

    /// The copy of the session document this tab holds.
    pub fn document(&self) -> &Document {
        self.mirror.document()
    }

    /// Makes this tab hold `document`, as a tab that fell behind would.
    pub fn hold(&mut self, document: Document) {
        self.mirror = Mirror::new(document);
    }

    /// Reads the stream until `done` holds for this tab, applying every
    /// message in order; a gap or a patch that does not apply fails.
    pub async fn until(&mut self, done: impl Fn(&Tab) -> bool) {
        self.try_until(Duration::from_secs(20), done)
            .await
            .expect("the condition was reached in time");
    }

    pub async fn try_until(
        &mut self,
        within: Duration,
        done: impl Fn(&Tab) -> bool,
    ) -> Result<(), Lost> {
        tokio::time::timeout(within, async {
            while !done(self) {
                let frames = self.stream.as_mut().expect("connected");
                let chunk = frames.next().await.ok_or(Lost::StreamEnded)??;
                self.partial.extend_from_slice(&chunk);
                while let Some(end) = self.partial.windows(2).position(|pair| pair == b"\n\n") {
                    let frame: Vec<u8> = self.partial.drain(..end + 2).collect();
                    for data in String::from_utf8_lossy(&frame)
                        .lines()
                        .filter_map(|line| line.strip_prefix("data:"))
                    {
                        let message: ServerMessage = serde_json::from_str(data.trim()).unwrap();
                        if let Err(violation) = self.mirror.apply(&message) {
                            panic!("{violation}: {message:?}");
                        }
                        self.received.push(message);
                    }
                }
            }
            Ok(())
        })
        .await
        .map_err(|_| Lost::TimedOut)?
    }

    /// Waits until everything sent so far is acknowledged.
    pub async fn settled(&mut self) {
        let target = self.next_seq - 1;
        self.until(|tab| tab.document().acked() >= target).await;
    }
}

/// A protocol reply: what was asked for, or the server's typed refusal.
pub async fn reply<T: DeserializeOwned>(response: reqwest::Response) -> Result<T, Lost> {
    let status = response.status();
    let body = response.bytes().await?;
    if status.is_success() {
        return Ok(serde_json::from_slice(&body).expect("a reply of the protocol"));
    }
    match serde_json::from_slice(&body) {
        Ok(error) => Err(Lost::Refused(error)),
        Err(_) => Err(Lost::Status(status.as_u16())),
    }
}
