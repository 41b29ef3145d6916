//! The SIGTERM race: a batch in flight while the server closes, then a
//! restart on the file store, then every event applied exactly once and the
//! session live. On both transports.
//!
//! The client behaves as the browser's does: its events stay in an outbox
//! until the stream acknowledges them; a retryable refusal (shutting down,
//! busy) leaves them there to be resent, a final one drops the event; when
//! the connection goes, it reconnects with its token and the version it
//! holds, and resends the outbox, relying on the server to ignore the seqs
//! it already has.

mod support;

use std::{
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};

use app::bench::{APPEND_ITEM, Bench, SLOW};
use stateside_wire::{ClientEvent, Receipt};
use support::{Address, Instance, Lost, Tab, socket::SocketTab};
use tokio::time::{sleep, timeout};

const BATCHES: u64 = 12;
/// A slow event, then ledger items: each batch takes a while to apply, so
/// the SIGTERM finds one in flight.
const BATCH: u64 = 8;
const SLOW_MS: u64 = 200;
/// The strike comes as soon as the client sends this batch (counting from
/// 1): before it is acknowledged, and most likely while it runs.
const STRIKE_AT: u64 = 4;
/// How long the client waits for acks before it takes the server for gone.
const PATIENCE: Duration = Duration::from_secs(5);

/// What the client saw.
#[derive(Debug, Default)]
struct Figures {
    reconnects: u32,
    retryable_refusals: u32,
    busy: u32,
    violations: Vec<String>,
}

/// One transport, as the client drives it.
trait Transport {
    /// Sends the outbox; answers the receipts that need acting on.
    async fn send(&mut self, events: &[ClientEvent]) -> Result<Vec<(u64, Receipt)>, Lost>;
    /// Reads the stream until `seq` is acknowledged.
    async fn acked_to(&mut self, seq: u64) -> Result<(), Lost>;
    fn acked(&self) -> u64;
    fn token(&self) -> String;
    fn event(&mut self, item: String) -> ClientEvent;
    fn slow(&mut self) -> ClientEvent;
    /// Reconnects to the same session; false while the server is away.
    async fn reconnect(&mut self) -> bool;
}

struct Socket {
    tab: SocketTab,
    at: Address,
}

impl Transport for Socket {
    async fn send(&mut self, events: &[ClientEvent]) -> Result<Vec<(u64, Receipt)>, Lost> {
        self.tab.receipts.clear();
        self.tab.send(events).await?;
        let last = events.last().expect("not empty").seq;
        self.tab
            .try_until(PATIENCE, |tab| {
                tab.document().acked() >= last || !tab.receipts.is_empty()
            })
            .await?;
        Ok(std::mem::take(&mut self.tab.receipts))
    }

    async fn acked_to(&mut self, seq: u64) -> Result<(), Lost> {
        self.tab
            .try_until(PATIENCE, |tab| tab.document().acked() >= seq)
            .await
    }

    fn acked(&self) -> u64 {
        self.tab.document().acked()
    }

    fn token(&self) -> String {
        self.tab.token.clone()
    }

    fn event(&mut self, item: String) -> ClientEvent {
        self.tab.event(APPEND_ITEM, item)
    }

    fn slow(&mut self) -> ClientEvent {
        self.tab.event(SLOW, SLOW_MS)
    }

    async fn reconnect(&mut self) -> bool {
        let since = self.tab.document().version();
        self.tab.connect(&self.at, Some(since)).await.is_ok()
    }
}

struct Fallback {
    tab: Tab,
    at: Address,
}

impl Transport for Fallback {
    async fn send(&mut self, events: &[ClientEvent]) -> Result<Vec<(u64, Receipt)>, Lost> {
        let receipts = self.tab.try_send(&self.at, events).await?;
        let answered: Vec<(u64, Receipt)> = events
            .iter()
            .map(|event| event.seq)
            .zip(receipts)
            .filter(|(_, receipt)| matches!(receipt, Receipt::Refused(_) | Receipt::Busy))
            .collect();
        if answered.is_empty() {
            self.acked_to(events.last().expect("not empty").seq).await?;
        }
        Ok(answered)
    }

    async fn acked_to(&mut self, seq: u64) -> Result<(), Lost> {
        self.tab
            .try_until(PATIENCE, |tab| tab.document().acked() >= seq)
            .await
    }

    fn acked(&self) -> u64 {
        self.tab.document().acked()
    }

    fn token(&self) -> String {
        self.tab.token.clone()
    }

    fn event(&mut self, item: String) -> ClientEvent {
        self.tab.event(APPEND_ITEM, item)
    }

    fn slow(&mut self) -> ClientEvent {
        self.tab.event(SLOW, SLOW_MS)
    }

    async fn reconnect(&mut self) -> bool {
        let since = self.tab.document().version();
        self.tab.reopen(&self.at).await.is_ok()
            && self.tab.try_connect(&self.at, Some(since)).await.is_ok()
    }
}

/// The browser's outbox over any transport.
struct Client<T> {
    transport: T,
    token: String,
    pending: Vec<ClientEvent>,
    ledger: Vec<String>,
    slow_sent: i64,
    figures: Figures,
}

impl<T: Transport> Client<T> {
    fn new(transport: T) -> Self {
        Self {
            token: transport.token(),
            transport,
            pending: Vec::new(),
            ledger: Vec::new(),
            slow_sent: 0,
            figures: Figures::default(),
        }
    }

    async fn run(mut self, batches_started: Arc<AtomicU64>) -> Self {
        for _ in 0..BATCHES {
            self.pending.push(self.transport.slow());
            self.slow_sent += 1;
            for _ in 1..BATCH {
                let item = format!("item {}", self.ledger.len());
                self.ledger.push(item.clone());
                self.pending.push(self.transport.event(item));
            }
            batches_started.fetch_add(1, Ordering::SeqCst);
            while let Err(lost) = self.deliver().await {
                self.reconnect(lost).await;
            }
        }
        self
    }

    async fn deliver(&mut self) -> Result<(), Lost> {
        while !self.pending.is_empty() {
            let answered = self.transport.send(&self.pending).await?;
            let mut pause = false;
            for (seq, receipt) in answered {
                match receipt {
                    Receipt::Refused(refusal) if refusal.is_final() => {
                        self.figures
                            .violations
                            .push(format!("seq {seq} refused for good: {refusal:?}"));
                        self.pending.retain(|event| event.seq != seq);
                    }
                    Receipt::Refused(_) => {
                        self.figures.retryable_refusals += 1;
                        pause = true;
                    }
                    Receipt::Busy => {
                        self.figures.busy += 1;
                        pause = true;
                    }
                    _ => {}
                }
            }
            if pause {
                sleep(Duration::from_millis(50)).await;
            }
            let acked = self.transport.acked();
            self.pending.retain(|event| event.seq > acked);
        }
        Ok(())
    }

    async fn reconnect(&mut self, lost: Lost) {
        self.figures.reconnects += 1;
        for _ in 0..600 {
            sleep(Duration::from_millis(100)).await;
            if self.transport.reconnect().await {
                if self.transport.token() != self.token {
                    self.figures
                        .violations
                        .push("the session was lost: a new one was opened".to_owned());
                }
                return;
            }
        }
        panic!("no way back to the server after {lost:?}");
    }
}

async fn sigterm_race<T: Transport>(open: impl AsyncFnOnce(&Address) -> T) {
    let dir = tempfile::tempdir().unwrap();
    let store = format!("file:{}", dir.path().join("sessions.redb").display());
    let mut server = Instance::start(&["--store", &store]).await;
    let client = Client::new(open(&server.address).await);
    let batches_started = Arc::new(AtomicU64::new(0));
    let strike = async {
        while batches_started.load(Ordering::SeqCst) < STRIKE_AT {
            sleep(Duration::from_millis(5)).await;
        }
        server.terminate().await;
        server.restart().await;
    };
    let (mut client, ()) = timeout(Duration::from_secs(120), async {
        tokio::join!(client.run(Arc::clone(&batches_started)), strike)
    })
    .await
    .expect("the client finishes");

    // What the server has is exactly what was sent, each once and in order,
    // and the session goes on.
    let mut fresh = Tab::join(&client.token);
    fresh.connect(&server, None).await;
    let sent = BATCHES * BATCH;
    fresh.until(|fresh| fresh.document().acked() >= sent).await;
    let bench: Bench = fresh.document().state().unwrap();
    let items: Vec<String> = bench.items.iter().cloned().collect();
    assert_eq!(items, client.ledger, "every item once, in order");
    assert_eq!(bench.count, client.slow_sent, "every slow event once");
    let last = client.transport.event("after the restart".to_owned());
    client.pending.push(last);
    client.deliver().await.expect("the session is live");
    fresh
        .until(|fresh| fresh.document().acked() == sent + 1)
        .await;
    println!("sigterm race: {} events, {:?}", sent + 1, client.figures);
    assert!(client.figures.reconnects >= 1, "the server went away");
    assert!(
        client.figures.violations.is_empty(),
        "{:#?}",
        client.figures.violations
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sigterm_mid_batch_loses_nothing_on_the_socket() {
    sigterm_race(async |at: &Address| Socket {
        tab: SocketTab::open(at).await,
        at: at.clone(),
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sigterm_mid_batch_loses_nothing_on_the_fallback() {
    sigterm_race(async |at: &Address| {
        let mut tab = Tab::open(at).await;
        tab.connect(at, None).await;
        Fallback {
            tab,
            at: at.clone(),
        }
    })
    .await;
}
