//! Issue 14: what one client can make the server spend is bounded, and each
//! bound answers clearly with the session intact. Over real sockets to a
//! real server process.

mod support;

use std::time::Duration;

use app::bench::{APPEND_ITEM, Bench, INCREMENT};
use stateside_wire::{ProtocolError, Receipt, RefusalReason, ServerMessage};
use support::{Instance, Tab, socket::SocketTab};

fn items(tab: &SocketTab) -> Vec<String> {
    tab.document().state::<Bench>().unwrap_or_default().items
}

#[tokio::test]
async fn the_benchmark_handlers_are_not_served_unless_asked_for() {
    let server = Instance::start_logged(&[], &[("STATESIDE_BENCH_HANDLERS", "false")], None).await;
    let mut tab = SocketTab::open(&server).await;
    let increment = tab.event(INCREMENT, ());
    tab.send(&[increment]).await.unwrap();
    tab.until(|tab| !tab.receipts.is_empty()).await;
    let (_, receipt) = &tab.receipts[0];
    assert!(
        matches!(receipt, Receipt::Refused(refusal) if refusal.reason == RefusalReason::UnknownHandler),
        "{receipt:?}"
    );
}

#[tokio::test]
async fn a_change_past_the_state_budget_is_refused_and_the_session_goes_on() {
    let server = Instance::start(&["--max-state-bytes", "4096"]).await;
    let mut tab = SocketTab::open(&server).await;
    let events = [
        tab.event(APPEND_ITEM, "a".repeat(1000)),
        tab.event(APPEND_ITEM, "b".repeat(5000)),
        tab.event(APPEND_ITEM, "c".repeat(1000)),
    ];
    tab.send(&events).await.unwrap();
    tab.until(|tab| items(tab).len() == 2).await;
    assert_eq!(items(&tab), ["a".repeat(1000), "c".repeat(1000)]);
    let notices: Vec<String> = tab
        .received
        .iter()
        .filter_map(|message| match message {
            ServerMessage::Update(update) => update.error.as_ref().map(ToString::to_string),
            ServerMessage::Snapshot { .. } => None,
        })
        .collect();
    assert_eq!(notices.len(), 1, "{notices:?}");
    assert!(
        notices[0].starts_with("bench/append_item failed: the session's state would be"),
        "{}",
        notices[0]
    );
}

#[tokio::test]
async fn a_session_takes_at_most_its_streams() {
    let server = Instance::start(&["--max-streams", "2"]).await;
    let first = SocketTab::open(&server).await;
    let mut second = SocketTab::join(&first.token);
    second.connect(&server, None).await.unwrap();
    let mut third = SocketTab::join(&first.token);
    assert!(third.connect(&server, None).await.is_err());
    assert_eq!(
        third.failed,
        Some(ProtocolError::TooManyStreams { limit: 2 })
    );
    drop(second);
    // The closed socket's place is free again once the server sees it go.
    let mut again = SocketTab::join(&first.token);
    for _ in 0..100 {
        if again.connect(&server, None).await.is_ok() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("a closed stream's place was never freed");
}

#[tokio::test]
async fn a_session_no_tab_used_is_freed_within_its_short_ttl() {
    let server = Instance::start(&["--unused-ttl", "1s"]).await;
    // Opened, as a page load does, and never used: no stream, no event.
    let unused = Tab::open(&server).await;
    let mut used = Tab::open(&server).await;
    used.connect(&server, None).await;
    let used = used.token.clone();
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let mut probe = Tab::join(&unused.token);
    assert!(
        matches!(
            probe.try_connect(&server, None).await,
            Err(support::Lost::Status(404))
        ),
        "the unused session is gone"
    );
    let mut probe = Tab::join(&used);
    assert!(
        probe.try_connect(&server, None).await.is_ok(),
        "a used one stays for the idle TTL"
    );
}
