//! The properties a run must keep, checked from a client's ledger against
//! the session as the server gives it to a fresh tab. Nothing here trusts
//! the server's own account: every count is the client's.
//!
//! 1. Every acknowledged event applied exactly once: a counter's count is
//!    exactly the increments it sent; a ledger's items are exactly the ones
//!    it sent, in order, once each; and the server acknowledges everything
//!    sent. (The clients also check, at every reconnection, that the server
//!    still has every event they saw acknowledged.)
//! 2. Every client's copy equals the server's state: the same document,
//!    the server's version not behind the copy's (a restored session
//!    renumbers above anything a tab could hold).
//! 3. Versions are monotonic per tab: the socket tab's mirror fails on any
//!    update that is not exactly the next version, and the client fails
//!    when a new connection starts below the version it held (both while
//!    running, in the client's ledger).
//! 4. No task ran twice unless declared restartable: `BG_MARK` is not
//!    restartable and writes its marker as it starts, so each marker
//!    appears at most once (zero if a fault stopped it first), and only
//!    markers the client started; the count is at most what the started
//!    tasks could add.

use std::collections::HashMap;

use app::bench::Bench;
use stateside_wire::Document;

use crate::client::{ITEM, Ledger, MARKER, Role};

/// What is wrong for a client in `role` with `ledger`, whose
/// copy is `copy`, when the server gives `server`.
pub fn check(role: Role, ledger: &Ledger, copy: &Document, server: &Document) -> Vec<String> {
    let mut wrong = Vec::new();
    if copy.value() != server.value() || server.version() < copy.version() {
        wrong.push(format!(
            "the client's copy (version {}, {}) differs from the server's (version {}, {})",
            copy.version(),
            outline(copy),
            server.version(),
            outline(server),
        ));
    }
    if server.acked() != ledger.sent {
        wrong.push(format!("{} acked of {} sent", server.acked(), ledger.sent));
    }
    let bench: Bench = match server.state() {
        Ok(bench) => bench,
        Err(error) => return [wrong, vec![format!("not a bench state: {error}")]].concat(),
    };
    match role {
        Role::Counter if bench.count != ledger.sent as i64 => wrong.push(format!(
            "count {} after {} increments sent and acked",
            bench.count, ledger.sent
        )),
        Role::Counter => {}
        Role::Ledger => wrong.extend(check_ledger(ledger, &bench)),
    }
    wrong
}

fn check_ledger(ledger: &Ledger, bench: &Bench) -> Vec<String> {
    let mut wrong = Vec::new();
    let items: Vec<&String> = bench
        .items
        .iter()
        .filter(|item| item.starts_with(ITEM))
        .collect();
    if items.iter().copied().ne(&ledger.items) {
        let first_difference = items
            .iter()
            .zip(&ledger.items)
            .position(|(kept, sent)| *kept != sent)
            .unwrap_or(items.len().min(ledger.items.len()));
        wrong.push(format!(
            "items are not exactly those sent, in order, once each: {} kept, {} sent, first \
             difference at {first_difference}",
            items.len(),
            ledger.items.len()
        ));
    }
    let mut starts: HashMap<&str, usize> = HashMap::new();
    for marker in bench.items.iter().filter(|item| item.starts_with(MARKER)) {
        *starts.entry(marker.as_str()).or_default() += 1;
    }
    for (marker, times) in starts {
        if times > 1 {
            wrong.push(format!("the task `{marker}` started {times} times"));
        }
        if !ledger.markers.iter().any(|started| started == marker) {
            wrong.push(format!("the task `{marker}` ran, but was never started"));
        }
    }
    if bench.count < 0 || bench.count as u64 > ledger.task_increments {
        wrong.push(format!(
            "count {} outside 0..={}, what the tasks started could add",
            bench.count, ledger.task_increments
        ));
    }
    wrong
}

/// A short account of a document for a message: its count and items.
fn outline(document: &Document) -> String {
    match document.state::<Bench>() {
        Ok(bench) => format!("count {}, {} items", bench.count, bench.items.len()),
        Err(_) => "not a bench state".to_owned(),
    }
}
