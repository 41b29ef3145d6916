//! One seed's run: start the system, open the clients and let them send
//! while the schedule strikes; then check every client, crash every process
//! at once, and check again from what the stores kept.
//!
//! The schedule waits for progress, never for time (see [`schedule`]), and
//! the clients keep sending until the last fault is over, so every fault
//! lands in traffic. Everything a run finds wrong is a violation with the
//! client's name; nothing panics on the way, so a seed always reports.
//!
//! [`schedule`]: crate::schedule

use std::{
    sync::{Arc, atomic::Ordering},
    time::Duration,
};

use stateside_wire::Document;
use tokio::time::{Instant, sleep, timeout};

use crate::{
    checker,
    client::{Client, Progress, Role},
    schedule::{Kind, Schedule},
    summary::Tally,
    support::{Address, socket::SocketTab},
    system::System,
};

/// Tabs on the Redis-backed servers (homed on each in turn), and on the
/// file store one. Half of each count, half keep a ledger.
const REDIS_CLIENTS: usize = 4;
const FILE_CLIENTS: usize = 2;
/// The schedule gives up if the clients deliver nothing for this long.
const NO_PROGRESS: Duration = Duration::from_secs(120);
/// A client that has not finished this long after the last fault is stuck.
const FINISH: Duration = Duration::from_secs(300);

pub struct Outcome {
    pub tally: Tally,
    pub violations: Vec<String>,
    /// The servers' logs, kept when something was wrong.
    pub logs: Option<std::path::PathBuf>,
}

pub async fn one_seed(seed: u64) -> Outcome {
    let started = Instant::now();
    let mut system = System::start().await;
    let mut clients = Vec::new();
    for (store, servers, count) in [
        ("redis", system.cluster(), REDIS_CLIENTS),
        ("file", system.file(), FILE_CLIENTS),
    ] {
        for n in 0..count {
            let role = if n.is_multiple_of(2) {
                Role::Counter
            } else {
                Role::Ledger
            };
            let name = format!("client {} ({store}, {role:?})", clients.len());
            let home = n % servers.len();
            clients.push(Client::open(name, role, servers.clone(), home).await);
        }
    }
    let schedule = Schedule::new(seed, &system.shape(clients.len()));
    let drops: Vec<_> = clients
        .iter()
        .map(|client| Arc::clone(&client.drop_connection))
        .collect();
    let progress = Arc::new(Progress::default());
    let running: Vec<_> = clients
        .into_iter()
        .map(|client| tokio::spawn(client.run(Arc::clone(&progress))))
        .collect();

    let mut tally = Tally {
        seeds: 1,
        ..Tally::default()
    };
    let mut violations = Vec::new();
    for (n, fault) in schedule.faults.iter().enumerate() {
        if !progressed(&progress, fault.after).await {
            violations.push(format!(
                "no batch delivered for {NO_PROGRESS:?} before fault {}",
                n + 1
            ));
            break;
        }
        println!(
            "  {:>6.1}s  fault {}/{}, {fault}",
            started.elapsed().as_secs_f64(),
            n + 1,
            schedule.faults.len()
        );
        match fault.kind {
            Kind::DropConnection => drops[fault.target].store(true, Ordering::SeqCst),
            _ => system.strike(fault).await,
        }
        tally.fault(fault.kind);
    }
    progress.end_faults();

    let mut finished = Vec::new();
    for mut running in running {
        match timeout(FINISH, &mut running).await {
            Ok(Ok(client)) => finished.push(client),
            Ok(Err(error)) => violations.push(format!("a client failed: {}", why(error))),
            Err(_) => {
                running.abort();
                violations.push(format!("a client did not finish within {FINISH:?}"));
            }
        }
    }
    for client in &mut finished {
        client.settle().await;
    }
    check_all(&mut finished, "after the schedule").await;
    system.crash_and_restart().await;
    check_all(&mut finished, "after kill -9 of every process").await;

    for client in &finished {
        tally.acked += client.ledger.acked;
        tally.resumes += u64::from(client.ledger.resumes);
        violations.extend(
            client
                .ledger
                .violations
                .iter()
                .map(|what| format!("{}: {what}", client.name)),
        );
    }
    tally.violations = violations.len();
    tally.elapsed = started.elapsed();
    let logs = (!violations.is_empty()).then(|| system.keep_logs());
    Outcome {
        tally,
        violations,
        logs,
    }
}

/// Waits until the clients have delivered `batches` more; false if they
/// stopped delivering.
async fn progressed(progress: &Progress, batches: u64) -> bool {
    let target = progress.batches() + batches;
    let mut last = (progress.batches(), Instant::now());
    while progress.batches() < target {
        if progress.batches() != last.0 {
            last = (progress.batches(), Instant::now());
        } else if last.1.elapsed() > NO_PROGRESS {
            return false;
        }
        sleep(Duration::from_millis(5)).await;
    }
    true
}

/// Checks every client against the server, recording what is wrong in its
/// ledger.
async fn check_all(clients: &mut [Client], stage: &str) {
    for client in clients {
        let copy = client.tab.document().clone();
        let wrong = match observe(&client.tab.token, client.server(), &copy).await {
            Ok(server) => checker::check(client.role, &client.ledger, &copy, &server),
            Err(why) => vec![why],
        };
        for what in wrong {
            client.violation(format!("{stage}: {what}"));
        }
    }
}

/// The session as a fresh tab gets it from `at`. A follower may be a
/// moment behind its owner's last save, so a differing view is asked for
/// again a few times before it counts.
async fn observe(token: &str, at: &Address, copy: &Document) -> Result<Document, String> {
    let mut seen = Err("the session could not be read".to_owned());
    for _ in 0..10 {
        let mut fresh = SocketTab::join(token);
        let opened = timeout(Duration::from_secs(10), async {
            fresh.connect(at, None).await?;
            fresh
                .try_until(Duration::from_secs(5), |tab| !tab.received.is_empty())
                .await
        })
        .await;
        if matches!(opened, Ok(Ok(()))) {
            if fresh.token != token {
                return Err("the store lost the session: the server opened a new one".into());
            }
            let server = fresh.document().clone();
            if server.value() == copy.value() {
                return Ok(server);
            }
            seen = Ok(server);
        }
        sleep(Duration::from_millis(300)).await;
    }
    seen
}

/// Why a client's task ended without its client: its panic's message.
fn why(error: tokio::task::JoinError) -> String {
    match error.try_into_panic() {
        Ok(panic) => panic
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_else(|| "a panic".to_owned()),
        Err(error) => error.to_string(),
    }
}
