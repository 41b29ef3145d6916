//! A client that behaves like the browser's (`stateside-leptos`'s `client`
//! and `outbox`), on the real socket, and keeps a ledger of what it did.
//!
//! Why it must behave like the browser: the promises are the engine's and
//! the browser's together. Events wait in `pending` until the stream
//! acknowledges them; a batch counts as sent when it leaves, and only a
//! receipt (busy, a refusal to retry) or a `missing` on the stream moves
//! the "sent" mark back. On any failure it reconnects, with its token and
//! the version it holds, and resends from the `next_seq` the server names,
//! relying on the server to drop seqs it already has.
//!
//! Where it connects is a sticky load balancer's choice: its home server
//! first, the others in turn while that one does not answer. So every
//! clustered server owns the sessions of the tabs at home there, and tabs
//! reach a session through followers while its owner is away.
//!
//! A counter sends only increments, so its count must end at exactly the
//! number it sent. A ledger client sends numbered items, and one background
//! task per batch, alternately locked increments and a marker task
//! ([`BG_MARK`]), so its items must end exactly as sent, its markers at
//! most once each, and its count at most what its tasks could add.

use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
    time::Duration,
};

use app::bench::{APPEND_ITEM, BG_INCREMENT, BG_MARK, INCREMENT};
use stateside_wire::{ClientEvent, ProtocolError, Receipt, RefusalReason, ServerMessage};
use tokio::time::{Instant, sleep, timeout};

use crate::support::{Address, Lost, socket::SocketTab};

/// Events per batch.
const BATCH: u64 = 10;
/// Locked increments per `BG_INCREMENT` task.
pub const TASK_STEPS: u32 = 5;
/// Between batches, as a user between clicks: keeps the machine from
/// drowning, while a fault still finds batches in flight.
const THINK: Duration = Duration::from_millis(20);
/// Batches each client sends once the last fault is over: the system
/// must work again, not just have survived.
const TAIL: u32 = 3;
/// How long a client waits for acks before it takes the server for lost.
const ACK_PATIENCE: Duration = Duration::from_secs(3);
/// How long a (re)connection may take, up to the server's hello: a paused
/// server accepts TCP connections and never answers.
const CONNECT_PATIENCE: Duration = Duration::from_secs(2);
/// A client that cannot deliver one batch for this long is stuck.
const STUCK: Duration = Duration::from_secs(90);
/// Prefixes in `items`: a ledger item, and a marker task's start.
pub const ITEM: &str = "item ";
pub const MARKER: &str = "task ";

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Role {
    Counter,
    Ledger,
}

/// What one client sent and saw: the checker's evidence.
#[derive(Default)]
pub struct Ledger {
    pub sent: u64,
    /// The highest ack the client saw.
    pub acked: u64,
    /// Items sent, in order.
    pub items: Vec<String>,
    /// Markers of the marker tasks started.
    pub markers: Vec<String>,
    /// Increments the tasks started could make, at most.
    pub task_increments: u64,
    /// Times it lost the server and got its session back.
    pub resumes: u32,
    /// Broken promises seen while running.
    pub violations: Vec<String>,
}

/// The system's progress, shared by the clients and the schedule.
#[derive(Default)]
pub struct Progress {
    batches: AtomicU64,
    faults_over: AtomicBool,
}

impl Progress {
    pub fn batches(&self) -> u64 {
        self.batches.load(Ordering::SeqCst)
    }

    /// The last fault is over: clients send their tail and stop.
    pub fn end_faults(&self) {
        self.faults_over.store(true, Ordering::SeqCst);
    }
}

pub struct Client {
    pub name: String,
    pub role: Role,
    servers: Vec<Address>,
    home: usize,
    /// The server the socket is on.
    at: usize,
    pub tab: SocketTab,
    pending: Vec<ClientEvent>,
    /// Every pending event up to this seq went out on this connection.
    sent_through: u64,
    /// The highest version the tab has held, across connections.
    high_version: u64,
    pub ledger: Ledger,
    /// Set by the schedule: drop the connection after the next send.
    pub drop_connection: Arc<AtomicBool>,
}

impl Client {
    pub async fn open(name: String, role: Role, servers: Vec<Address>, home: usize) -> Self {
        let mut tab = SocketTab::new();
        tab.connect(&servers[home], None)
            .await
            .expect("a session opens");
        Self {
            name,
            role,
            servers,
            home,
            at: home,
            sent_through: tab.next_seq - 1,
            tab,
            pending: Vec::new(),
            high_version: 0,
            ledger: Ledger::default(),
            drop_connection: Arc::default(),
        }
    }

    /// The server the client is on now.
    pub fn server(&self) -> &Address {
        &self.servers[self.at]
    }

    /// Sends batches until the faults are over, then its tail. Stops early
    /// if it cannot deliver (recorded as a violation).
    pub async fn run(mut self, progress: Arc<Progress>) -> Self {
        let mut tail = TAIL;
        while tail > 0 {
            if progress.faults_over.load(Ordering::SeqCst) {
                tail -= 1;
            }
            self.queue_batch();
            if !self.deliver().await {
                break;
            }
            progress.batches.fetch_add(1, Ordering::SeqCst);
            sleep(THINK).await;
        }
        self
    }

    fn queue_batch(&mut self) {
        for i in 0..BATCH {
            let seq = self.tab.next_seq;
            let event = match self.role {
                Role::Counter => self.tab.event(INCREMENT, ()),
                Role::Ledger if i == 0 && (self.ledger.sent / BATCH).is_multiple_of(2) => {
                    self.ledger.task_increments += u64::from(TASK_STEPS);
                    self.tab.event(BG_INCREMENT, TASK_STEPS)
                }
                Role::Ledger if i == 0 => {
                    let marker = format!("{MARKER}{seq}");
                    self.ledger.markers.push(marker.clone());
                    self.ledger.task_increments += 1;
                    self.tab.event(BG_MARK, marker)
                }
                Role::Ledger => {
                    let item = format!("{ITEM}{seq}");
                    self.ledger.items.push(item.clone());
                    self.tab.event(APPEND_ITEM, item)
                }
            };
            self.pending.push(event);
        }
        self.ledger.sent += BATCH;
    }

    /// Delivers everything pending, through any failure; false if stuck.
    async fn deliver(&mut self) -> bool {
        let deadline = Instant::now() + STUCK;
        while let Err(lost) = self.try_deliver().await {
            if !self.resume(deadline).await {
                self.violation(format!(
                    "stuck: no way to deliver a batch for {STUCK:?} (last failure: {lost:?})"
                ));
                return false;
            }
        }
        true
    }

    async fn try_deliver(&mut self) -> Result<(), Lost> {
        while let Some(last) = self.pending.last().map(|event| event.seq) {
            let unsent: Vec<_> = self
                .pending
                .iter()
                .filter(|event| event.seq > self.sent_through)
                .cloned()
                .collect();
            if !unsent.is_empty() {
                self.sent_through = last;
                timeout(ACK_PATIENCE, self.tab.send(&unsent))
                    .await
                    .map_err(|_| Lost::TimedOut)??;
                if self.drop_connection.swap(false, Ordering::SeqCst) {
                    self.tab.disconnect();
                    return Err(Lost::StreamEnded);
                }
            }
            let waited = self
                .tab
                .try_until(ACK_PATIENCE, |tab| {
                    tab.document().acked() >= last
                        || !tab.receipts.is_empty()
                        || tab.failed.is_some()
                })
                .await;
            self.watch_stream();
            waited?;
            if let Some(failed) = self.tab.failed.take() {
                return Err(Lost::Refused(failed));
            }
            for (seq, receipt) in std::mem::take(&mut self.tab.receipts) {
                self.receipt(seq, receipt).await?;
            }
            let acked = self.tab.document().acked();
            self.ledger.acked = self.ledger.acked.max(acked);
            self.pending.retain(|event| event.seq > acked);
        }
        Ok(())
    }

    /// Acts on a receipt, as the browser's outbox does.
    async fn receipt(&mut self, seq: u64, receipt: Receipt) -> Result<(), Lost> {
        match receipt {
            Receipt::Accepted | Receipt::Held | Receipt::Duplicate => {}
            Receipt::Refused(refusal) if refusal.is_final() => {
                self.violation(format!("a good event ({seq}) was refused: {refusal:?}"));
                self.pending.retain(|event| event.seq != seq);
            }
            Receipt::Refused(refusal) if refusal.reason == RefusalReason::UnknownSession => {
                return Err(Lost::Refused(ProtocolError::UnknownSession));
            }
            Receipt::Refused(_) | Receipt::Busy => {
                self.resend_from(seq);
                sleep(Duration::from_millis(50)).await;
            }
        }
        Ok(())
    }

    fn resend_from(&mut self, seq: u64) {
        self.sent_through = self.sent_through.min(seq.saturating_sub(1));
    }

    /// Reads what the stream brought since the last look: versions must
    /// never go back, across connections too, and a `missing` sends events
    /// again.
    fn watch_stream(&mut self) {
        for message in std::mem::take(&mut self.tab.received) {
            let version = message.version();
            if version < self.high_version {
                self.violation(format!(
                    "the version went back from {} to {version}",
                    self.high_version
                ));
            }
            self.high_version = self.high_version.max(version);
            if let ServerMessage::Update(update) = message
                && let Some(missing) = update.missing
            {
                self.resend_from(missing);
            }
        }
    }

    /// Gets the session back, as the browser does: home first, then the
    /// other servers in turn. Checks that the server kept everything this
    /// client saw acknowledged. False if the deadline passed.
    async fn resume(&mut self, deadline: Instant) -> bool {
        self.ledger.resumes += 1;
        let token = self.tab.token.clone();
        let acked = self.tab.document().acked();
        let mut attempt = 0;
        loop {
            if Instant::now() > deadline {
                return false;
            }
            attempt += 1;
            sleep(Duration::from_millis(100 * attempt.min(10) as u64)).await;
            let at = (self.home + attempt - 1) % self.servers.len();
            let since = Some(self.tab.document().version()).filter(|&version| version > 0);
            let connected =
                timeout(CONNECT_PATIENCE, self.tab.connect(&self.servers[at], since)).await;
            if !matches!(connected, Ok(Ok(()))) {
                continue;
            }
            self.at = at;
            if self.tab.token != token {
                self.violation(format!("the session was lost: {at} opened a new one"));
                return false;
            }
            let next_seq = self
                .tab
                .session
                .as_ref()
                .expect("a hello answered")
                .next_seq;
            if next_seq <= acked {
                self.violation(format!(
                    "acknowledged events lost: {acked} acked, server {at} has {}",
                    next_seq - 1
                ));
            }
            self.sent_through = next_seq - 1;
            self.watch_stream();
            return true;
        }
    }

    /// Follows the stream until it is quiet, so that the copy holds what
    /// the server's tasks did last. Reconnects if it has to.
    pub async fn settle(&mut self) {
        let quiet = Duration::from_millis(500);
        let deadline = Instant::now() + STUCK;
        loop {
            match self
                .tab
                .try_until(quiet, |tab| !tab.received.is_empty())
                .await
            {
                Ok(()) => self.watch_stream(),
                Err(Lost::TimedOut) => return,
                Err(lost) => {
                    if !self.resume(deadline).await {
                        return self
                            .violation(format!("stuck: cannot follow the stream ({lost:?})"));
                    }
                }
            }
        }
    }

    pub fn violation(&mut self, what: String) {
        self.ledger.violations.push(what);
    }
}
