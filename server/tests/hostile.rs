//! Issue 14: what one client can make the server spend is bounded, and each
//! bound answers clearly with the session intact. Over real sockets to a
//! real server process.

mod support;

use std::time::Duration;

use app::bench::{APPEND_ITEM, Bench, INCREMENT};
use stateside_wire::{
    OPEN_PATH, OpenRequest, ProtocolError, Receipt, RefusalReason, ServerMessage,
};
use support::{Instance, Tab, socket::SocketTab};

fn items(tab: &SocketTab) -> Vec<String> {
    let bench = tab.document().state::<Bench>().unwrap_or_default();
    bench.items.iter().cloned().collect()
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

/// Opens a new session over HTTP, as `X-Forwarded-For: forwarded_for` if
/// given; the answer's status.
async fn open_as(server: &Instance, forwarded_for: Option<&str>) -> u16 {
    let mut request = reqwest::Client::new()
        .post(server.url(OPEN_PATH))
        .form(&OpenRequest { resume: None });
    if let Some(client) = forwarded_for {
        request = request.header("x-forwarded-for", client);
    }
    request.send().await.unwrap().status().as_u16()
}

#[tokio::test]
async fn new_sessions_from_one_address_are_rate_limited() {
    let server = Instance::start(&["--open-rate", "1", "--open-burst", "3"]).await;
    let mut statuses = Vec::new();
    for _ in 0..6 {
        statuses.push(open_as(&server, None).await);
    }
    assert_eq!(&statuses[..3], [200, 200, 200], "{statuses:?}");
    assert!(statuses[3..].contains(&429), "{statuses:?}");
    // A forged header changes nothing: this peer is no trusted proxy.
    assert_eq!(open_as(&server, Some("203.0.113.7")).await, 429);
    // The bucket refills.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(open_as(&server, None).await, 200);
}

#[tokio::test]
async fn behind_a_trusted_proxy_each_client_has_its_own_limits() {
    let server = Instance::start(&[
        "--trusted-proxy",
        "127.0.0.1",
        "--open-rate",
        "1",
        "--open-burst",
        "2",
    ])
    .await;
    let one = Some("198.51.100.1, 203.0.113.1");
    assert_eq!(open_as(&server, one).await, 200);
    assert_eq!(open_as(&server, one).await, 200);
    assert_eq!(open_as(&server, one).await, 429, "the same client, over");
    assert_eq!(
        open_as(&server, Some("203.0.113.2")).await,
        200,
        "another client behind the same proxy"
    );
}

#[tokio::test]
async fn one_address_holds_at_most_its_streams() {
    let server = Instance::start(&["--max-streams-per-ip", "2"]).await;
    let _first = SocketTab::open(&server).await;
    let _second = SocketTab::open(&server).await;
    let refused = SocketTab::new().connect(&server, None).await;
    assert!(
        matches!(&refused, Err(support::Lost::Socket(error)) if error.contains("429")),
        "{refused:?}"
    );
}
