//! Chaos: `kill -9` the server (file store) or Redis (Redis store) in the
//! middle of bursts of events and background tasks, and check that nothing
//! acknowledged is lost and that the clients recover by themselves.
//!
//! Ignored by default: it kills processes and takes a few seconds per store.
//! `scripts/chaos.sh` runs it and prints the summary lines.
//!
//! Each client does what the browser client does (`stateside-leptos`'s
//! `client.rs`): events wait in `pending` until the stream acknowledges them;
//! on any failure it reopens its session with its token, reconnects its
//! stream from the version it holds, and resends what is pending, relying on
//! the server to drop the seqs it already has. Half the clients send only
//! increments, so their count must end exactly at the number of events; the
//! others send a ledger of numbered items with a background task of locked
//! increments in every batch, so their items must end exactly as sent, in
//! order and once each, while their task increments (lost with the process
//! that ran them) can only be at most what was started.
//!
//! Checked, per client: after the crash the server still has every event the
//! client saw acknowledged (the session's `next_seq` is past it); the client
//! resumes the same session; the final state is exact; the client's copy
//! equals the server's; and after one more `kill -9` of everything, the store
//! gives the same state back.
//!
//! How sharp it is: an engine that acknowledges events before the store has
//! them (a one-line mutant of `Outbox::mark_applied`) failed two runs of
//! three on the file store, each time with "acknowledged events lost".

#[path = "../../crates/stateside/tests/support/redis_server.rs"]
#[allow(dead_code)] // the engine's tests use all of it
mod redis_server;
mod support;

use std::{
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};

use app::bench::{APPEND_ITEM, BG_INCREMENT, Bench, INCREMENT};
use redis_server::RedisServer;
use stateside_wire::{ClientEvent, Receipt};
use support::{Address, Instance, Lost, Tab};
use tokio::time::{Instant, sleep, timeout};

const COUNTERS: usize = 3;
const LEDGERS: usize = 3;
const BATCHES: u64 = 40;
const BATCH: u64 = 10;
/// Locked increments per background task.
const TASK_STEPS: u32 = 20;
/// The chaos strikes once this share of the batches is delivered: by
/// progress, not time, so that it lands mid-burst on any machine.
const STRIKE_AT: f64 = 0.4;
/// How long a client waits for acks before it decides it lost the server.
const ACK_PATIENCE: Duration = Duration::from_secs(3);

#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Counter,
    Ledger,
}

/// What one client saw, for the checks and the summary.
#[derive(Default)]
struct Figures {
    /// Acknowledged events, as the stream tells them (read by the run at the
    /// moment of the strike).
    acked: Arc<AtomicU64>,
    /// Times the client lost the server and got its session back.
    resumes: u32,
    sent: u64,
    ledger: Vec<String>,
    task_steps_started: u64,
    violations: Vec<String>,
}

struct Client {
    tab: Tab,
    at: Address,
    kind: Kind,
    pending: Vec<ClientEvent>,
    figures: Figures,
}

impl Client {
    async fn open(at: &Address, kind: Kind) -> Self {
        let mut tab = Tab::open(at).await;
        tab.connect(at, None).await;
        Self {
            tab,
            at: at.clone(),
            kind,
            pending: Vec::new(),
            figures: Figures::default(),
        }
    }

    fn acked(&self) -> u64 {
        self.tab.document().acked()
    }

    /// Sends every batch, each delivered (acknowledged) before the next.
    async fn run(mut self, batches_done: Arc<AtomicU64>) -> Self {
        for _ in 0..BATCHES {
            for i in 0..BATCH {
                let event = match self.kind {
                    Kind::Counter => self.tab.event(INCREMENT, ()),
                    Kind::Ledger if i == 0 => {
                        self.figures.task_steps_started += u64::from(TASK_STEPS);
                        self.tab.event(BG_INCREMENT, TASK_STEPS)
                    }
                    Kind::Ledger => {
                        let item = format!("item {}", self.tab.next_seq);
                        self.figures.ledger.push(item.clone());
                        self.tab.event(APPEND_ITEM, item)
                    }
                };
                self.pending.push(event);
            }
            self.figures.sent += BATCH;
            self.deliver().await;
            batches_done.fetch_add(1, Ordering::SeqCst);
        }
        self
    }

    async fn deliver(&mut self) {
        while let Err(lost) = self.try_deliver().await {
            self.resume(lost).await;
        }
    }

    async fn try_deliver(&mut self) -> Result<(), Lost> {
        while !self.pending.is_empty() {
            let receipts = self.tab.try_send(&self.at, &self.pending).await?;
            if receipts.contains(&Receipt::Busy) {
                sleep(Duration::from_millis(20)).await;
                continue;
            }
            if let Some(refused) = receipts
                .iter()
                .find(|receipt| matches!(receipt, Receipt::Refused(_)))
            {
                self.violation(format!("a good event was refused: {refused:?}"));
            }
            let last = self.pending.last().expect("not empty").seq;
            self.tab
                .try_until(ACK_PATIENCE, |tab| tab.document().acked() >= last)
                .await?;
            let acked = self.acked();
            self.figures.acked.store(acked, Ordering::SeqCst);
            self.pending.retain(|event| event.seq > acked);
        }
        Ok(())
    }

    /// Gets the session back, as the browser client does, and checks that
    /// the server kept everything this client saw acknowledged.
    async fn resume(&mut self, lost: Lost) {
        let acked = self.acked();
        self.figures.resumes += 1;
        let token = self.tab.token.clone();
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            assert!(
                Instant::now() < deadline,
                "no way back to the server after {lost:?}"
            );
            sleep(Duration::from_millis(100)).await;
            let Ok(next_seq) = self.tab.reopen(&self.at).await else {
                continue;
            };
            if self.tab.token != token {
                self.violation("the session was lost: the server opened a new one".into());
                self.tab.token = token.clone();
            }
            if next_seq <= acked {
                self.violation(format!(
                    "acknowledged events lost: {acked} acked, the server has {}",
                    next_seq - 1
                ));
            }
            let since = self.tab.document().version();
            if self.tab.try_connect(&self.at, Some(since)).await.is_ok() {
                return;
            }
        }
    }

    fn violation(&mut self, what: String) {
        eprintln!("chaos: VIOLATION ({}): {what}", self.tab.token);
        self.figures.violations.push(what);
    }

    /// The exact final state, as a fresh tab gets it from the server:
    /// checked against what this client sent and against its own copy.
    async fn check(&mut self, at: &Address, stage: &str) {
        // Background tasks may still be publishing: follow them to the end.
        let quiet = Duration::from_millis(300);
        while self
            .tab
            .try_until(quiet, |tab| !tab.received.is_empty())
            .await
            .is_ok()
        {
            self.tab.received.clear();
        }
        let mut fresh = Tab::join(&self.tab.token);
        fresh.connect(at, None).await;
        fresh.until(|fresh| !fresh.received.is_empty()).await;
        let (copy, server) = (self.tab.document(), fresh.document());
        // Equal content; the server's version may be ahead of the copy's,
        // as a restored session renumbers above anything a tab could hold.
        if copy.value() != server.value() || server.version() < copy.version() {
            self.violation(format!(
                "{stage}: the client's copy (version {}, {:?}) differs from the server's \
                 (version {}, {:?})",
                copy.version(),
                copy.state::<Bench>().map(|b| (b.count, b.items.len())),
                server.version(),
                server.state::<Bench>().map(|b| (b.count, b.items.len())),
            ));
        }
        let bench: Bench = fresh.document().state().expect("a bench state");
        match self.kind {
            Kind::Counter if bench.count != self.figures.sent as i64 => self.violation(format!(
                "{stage}: count {} after {} increments",
                bench.count, self.figures.sent
            )),
            Kind::Ledger if bench.items != self.figures.ledger => self.violation(format!(
                "{stage}: {} items, {} sent, or not in order",
                bench.items.len(),
                self.figures.ledger.len()
            )),
            Kind::Ledger if bench.count as u64 > self.figures.task_steps_started => {
                self.violation(format!(
                    "{stage}: count {} above the {} task increments started",
                    bench.count, self.figures.task_steps_started
                ))
            }
            _ => {}
        }
        if fresh.document().acked() != self.figures.sent {
            self.violation(format!(
                "{stage}: {} acked of {} sent",
                fresh.document().acked(),
                self.figures.sent
            ));
        }
    }
}

/// What a scenario does to the system in the middle of the run, and again
/// before the last check.
trait Chaos {
    fn name(&self) -> &'static str;
    async fn strike(&mut self, server: &mut Instance);
    /// Where to ask, after a strike, what the store kept.
    async fn witness(&mut self, server: &Instance) -> Address;
}

struct KillServer;

impl Chaos for KillServer {
    fn name(&self) -> &'static str {
        "file store, server kill -9"
    }

    async fn strike(&mut self, server: &mut Instance) {
        server.kill();
        sleep(Duration::from_millis(300)).await;
        server.restart().await;
    }

    /// The restarted server: all it has is what the store kept.
    async fn witness(&mut self, server: &Instance) -> Address {
        server.address.clone()
    }
}

struct KillRedis {
    redis: RedisServer,
    /// A second server on the same Redis, started after the strike: it has
    /// nothing but what Redis kept.
    witness: Option<Instance>,
}

impl Chaos for KillRedis {
    fn name(&self) -> &'static str {
        "redis store, redis-server kill -9"
    }

    async fn strike(&mut self, _server: &mut Instance) {
        self.redis.kill();
        // Long enough for saves to fail and be retried; shorter than a
        // client's patience, so the stall is not taken for a lost server.
        sleep(Duration::from_secs(1)).await;
        self.redis.launch();
    }

    async fn witness(&mut self, _server: &Instance) -> Address {
        let witness = Instance::start(&["--store", &self.redis.url()]).await;
        self.witness.insert(witness).address.clone()
    }
}

/// Events the store kept for a session: its `next_seq - 1`, as a tab that
/// reopens it is told.
async fn kept(at: &Address, token: &str) -> u64 {
    let mut probe = Tab::join(token);
    let next_seq = probe.reopen(at).await.expect("the session reopens");
    assert_eq!(probe.token, token, "the store kept the session");
    next_seq - 1
}

async fn run(server: &mut Instance, mut chaos: impl Chaos) {
    let started = Instant::now();
    let batches_done = Arc::new(AtomicU64::new(0));
    let mut clients = Vec::new();
    let mut watched = Vec::new();
    for n in 0..COUNTERS + LEDGERS {
        let kind = if n < COUNTERS {
            Kind::Counter
        } else {
            Kind::Ledger
        };
        let client = Client::open(server, kind).await;
        watched.push((client.tab.token.clone(), Arc::clone(&client.figures.acked)));
        clients.push(tokio::spawn(client.run(Arc::clone(&batches_done))));
    }

    let total = BATCHES * (COUNTERS + LEDGERS) as u64;
    while (batches_done.load(Ordering::SeqCst) as f64) < total as f64 * STRIKE_AT {
        sleep(Duration::from_millis(5)).await;
    }
    let batches_before = batches_done.load(Ordering::SeqCst);
    // Read before the strike: nothing acknowledged after it counts.
    let acked: Vec<u64> = watched
        .iter()
        .map(|(_, acked)| acked.load(Ordering::SeqCst))
        .collect();
    chaos.strike(server).await;
    let witness = chaos.witness(server).await;
    let mut found = Vec::new();
    let mut violations = Vec::new();
    for ((token, _), acked) in watched.iter().zip(&acked) {
        let kept = kept(&witness, token).await;
        if kept < *acked {
            violations.push(format!(
                "{token}: {acked} acked before the strike, {kept} kept"
            ));
        }
        found.push(kept);
    }

    let mut finished = Vec::new();
    for client in clients {
        let client = timeout(Duration::from_secs(120), client)
            .await
            .expect("every client finishes")
            .expect("no client panics");
        finished.push(client);
    }
    for client in &mut finished {
        client.check(server, "after recovery").await;
    }

    // Everything was acknowledged, so all of it must survive another
    // strike, and then the server's own death.
    chaos.strike(server).await;
    server.restart().await;
    for client in &mut finished {
        client.check(server, "after a second crash").await;
    }

    violations.extend(finished.iter().flat_map(|c| c.figures.violations.clone()));
    let sum =
        |figure: fn(&Figures) -> u64| finished.iter().map(|c| figure(&c.figures)).sum::<u64>();
    println!(
        "chaos: {}: {} clients ({COUNTERS} counting, {LEDGERS} with ledgers and tasks), struck \
         after {batches_before} of {total} batches; events acked before the strike {}, kept \
         after it {}; {} resumes by the clients; events sent {}, each applied once (acked, \
         present and exact after recovery and again after a second crash); task increments \
         started {}; {} violations; {:.1}s",
        chaos.name(),
        finished.len(),
        acked.iter().sum::<u64>(),
        found.iter().sum::<u64>(),
        sum(|f| u64::from(f.resumes)),
        sum(|f| f.sent),
        sum(|f| f.task_steps_started),
        violations.len(),
        started.elapsed().as_secs_f64(),
    );
    assert!(violations.is_empty(), "{violations:#?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "kills processes; run by scripts/chaos.sh"]
async fn kill_the_server_under_the_file_store() {
    let dir = tempfile::tempdir().unwrap();
    let store = format!("file:{}", dir.path().join("sessions.redb").display());
    let mut server = Instance::start(&["--store", &store]).await;
    run(&mut server, KillServer).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "kills processes; run by scripts/chaos.sh"]
async fn kill_redis_under_the_redis_store() {
    let redis = RedisServer::start_durable();
    let mut server = Instance::start(&["--store", &redis.url()]).await;
    let chaos = KillRedis {
        redis,
        witness: None,
    };
    run(&mut server, chaos).await;
}
