//! The socket protocol ([`SOCKET_PATH`](stateside_wire::SOCKET_PATH))
//! against the real server over real WebSockets: a tab opens or resumes its
//! session with a hello, gets a replay or a snapshot, its events apply once
//! and in order, refusals tell it what to do, a quiet socket is pinged and
//! a dead one closed, and garbage ends the socket but not the session.

mod support;

use std::time::Duration;

use app::bench::{APPEND_ITEM, BG_INCREMENT, Bench, INCREMENT, SLOW};
use futures::future::join_all;
use stateside_wire::{Document, ProtocolError, Receipt, RefusalReason, ServerMessage, Upward};
use support::{Instance, Lost, socket::SocketTab};
use tokio_tungstenite::tungstenite::{Error as WsError, Message};

/// A small ring, so that a short run can fall out of it.
const RING: &str = "4";

async fn server() -> Instance {
    Instance::start(&["--replay-ring", RING]).await
}

fn items(tab: &SocketTab) -> Vec<String> {
    let bench = tab.document().state::<Bench>().unwrap();
    bench.items.iter().cloned().collect()
}

fn count(tab: &SocketTab) -> i64 {
    tab.document().state::<Bench>().unwrap().count
}

/// A document-moving update's version, for telling a replay's steps.
fn versions(received: &[ServerMessage]) -> Vec<u64> {
    received
        .iter()
        .filter_map(|message| match message {
            ServerMessage::Update(update) if !update.ops.is_empty() => Some(update.version),
            _ => None,
        })
        .collect()
}

#[tokio::test]
async fn a_socket_resumes_its_session_with_a_replay_or_a_snapshot() {
    let server = server().await;
    let mut tab = SocketTab::open(&server).await;
    assert!(
        matches!(tab.received.first(), Some(ServerMessage::Snapshot { .. })),
        "a new session starts from a snapshot: {:?}",
        tab.received
    );
    let mut at_four = Document::default();
    for n in 0..6 {
        let event = tab.event(APPEND_ITEM, format!("item {n}"));
        tab.send(&[event]).await.unwrap();
        tab.settled().await;
        if n == 3 {
            at_four = tab.document().clone();
        }
    }
    assert_eq!(at_four.version(), 4);
    let version = tab.document().version();
    assert_eq!(version, 6);

    // Back from version 4, which the ring of 4 still covers: a replay, on
    // the same session.
    let mut behind = SocketTab::join(&tab.token);
    behind.hold(at_four);
    behind.connect(&server, Some(4)).await.unwrap();
    assert_eq!(behind.token, tab.token);
    behind
        .until(|tab| tab.document().version() == version && tab.document().acked() == 6)
        .await;
    assert!(
        behind
            .received
            .iter()
            .all(|message| matches!(message, ServerMessage::Update(_))),
        "a replay, not a snapshot: {:?}",
        behind.received
    );
    assert_eq!(versions(&behind.received), [5, 6]);
    assert_eq!(behind.session.as_ref().unwrap().next_seq, 7);

    // Back from version 1, which left the ring: one snapshot.
    let mut far_behind = SocketTab::join(&tab.token);
    far_behind.connect(&server, Some(1)).await.unwrap();
    far_behind.until(|tab| !tab.received.is_empty()).await;
    assert!(matches!(
        far_behind.received[0],
        ServerMessage::Snapshot { version: 6, .. }
    ));
    assert_eq!(far_behind.document().value(), tab.document().value());
    assert_eq!(items(&far_behind).len(), 6);
}

#[tokio::test]
async fn events_apply_once_and_in_seq_order_and_duplicates_are_ignored() {
    let server = server().await;
    let mut tab = SocketTab::open(&server).await;
    let first = tab.event(APPEND_ITEM, "first".to_owned());
    let second = tab.event(APPEND_ITEM, "second".to_owned());
    let third = tab.event(APPEND_ITEM, "third".to_owned());
    let fourth = tab.event(APPEND_ITEM, "fourth".to_owned());
    // Out of order, then resent, and twice in one batch.
    tab.send(std::slice::from_ref(&third)).await.unwrap();
    tab.send(&[first.clone(), second.clone(), second])
        .await
        .unwrap();
    tab.send(&[first, third, fourth]).await.unwrap();
    tab.settled().await;
    assert_eq!(items(&tab), ["first", "second", "third", "fourth"]);
    assert!(
        tab.receipts.is_empty(),
        "what was taken is not answered: {:?}",
        tab.receipts
    );
}

#[tokio::test]
async fn an_unknown_handler_is_refused_for_good_and_the_session_goes_on() {
    let server = server().await;
    let mut tab = SocketTab::open(&server).await;
    let mut unknown = tab.event(INCREMENT, ());
    unknown.handler = "bench/no_such_handler".to_owned();
    let mut far_future = tab.event(INCREMENT, ());
    far_future.seq += 1_000_000;
    let good = tab.event(INCREMENT, ());
    let (unknown_seq, far_seq) = (unknown.seq, far_future.seq);
    tab.send(&[unknown, far_future, good.clone()])
        .await
        .unwrap();
    let answered = tab
        .try_until(Duration::from_secs(5), |tab| tab.receipts.len() == 2)
        .await;
    assert!(answered.is_ok(), "{:?}", tab.receipts);
    let refusal = |seq: u64| match tab.receipts.iter().find(|(s, _)| *s == seq) {
        Some((_, Receipt::Refused(refusal))) => refusal.clone(),
        other => panic!("seq {seq} not refused: {other:?}"),
    };
    let unknown = refusal(unknown_seq);
    assert_eq!(unknown.reason, RefusalReason::UnknownHandler);
    assert!(unknown.is_final(), "resending it can never succeed");
    let far = refusal(far_seq);
    assert_eq!(far.reason, RefusalReason::SeqOutOfWindow);
    assert!(!far.is_final(), "the client resends it in its turn");

    // The refused event's seq counts as used; the far one was not taken,
    // so the good one waits for it: resent with its own seq, both apply.
    let mut refill = good;
    refill.seq = far_seq - 1_000_000;
    tab.send(&[refill]).await.unwrap();
    tab.until(|tab| count(tab) == 2).await;
    tab.settled().await;
}

#[tokio::test]
async fn a_flood_waits_for_room_in_the_queue_and_is_never_busy() {
    let server = Instance::start(&["--queue-limit", "4"]).await;
    let mut tab = SocketTab::open(&server).await;
    // A slow event fills the queue of four at once; the rest waits in the
    // socket (which stops reading) instead of being refused.
    let mut flood = vec![tab.event(SLOW, 300)];
    flood.extend((0..10).map(|_| tab.event(INCREMENT, ())));
    let later: Vec<_> = (0..5).map(|_| tab.event(INCREMENT, ())).collect();
    let last = later.last().unwrap().seq;
    tab.send(&flood).await.unwrap();
    tab.send(&later).await.unwrap();
    tab.until(|tab| tab.document().acked() >= last).await;
    assert_eq!(tab.receipts, [], "nothing was busy, nothing to resend");
    assert_eq!(count(&tab), 16);
}

#[tokio::test]
async fn a_cross_origin_upgrade_is_refused() {
    let server = server().await;
    let host = server.base.trim_start_matches("http://").to_owned();
    let refused = tokio_tungstenite::connect_async(SocketTab::request(
        &server,
        Some("http://elsewhere.example"),
    ))
    .await;
    match refused {
        Err(WsError::Http(response)) => assert_eq!(response.status().as_u16(), 403),
        other => panic!("not refused: {:?}", other.map(|(_, response)| response)),
    }
    // The page's own origin passes.
    let own = format!("http://{host}");
    let (socket, _) = tokio_tungstenite::connect_async(SocketTab::request(&server, Some(&own)))
        .await
        .expect("a same-origin upgrade");
    drop(socket);
}

#[tokio::test]
async fn a_quiet_socket_is_pinged_and_a_silent_tab_is_closed() {
    let server = Instance::start(&["--keepalive", "300ms"]).await;
    // The live tab reads (and so answers pings) all along, on its own task.
    let mut live = SocketTab::open(&server).await;
    let live = tokio::spawn(async move {
        live.until(|tab| tab.pings >= 5).await;
        let event = live.event(INCREMENT, ());
        live.send(&[event]).await.unwrap();
        live.settled().await;
        live
    });
    let mut silent = SocketTab::new();
    silent.answers_pings = false;
    silent.connect(&server, None).await.unwrap();
    silent.closed().await;
    assert!(silent.pings >= 1, "pinged before being closed");
    let live = live.await.unwrap();
    assert_eq!(count(&live), 1);
}

#[tokio::test]
async fn a_socket_that_never_says_hello_is_closed() {
    let server = Instance::start(&["--keepalive", "300ms"]).await;
    let (mut socket, _) = tokio_tungstenite::connect_async(SocketTab::request(&server, None))
        .await
        .unwrap();
    use futures::StreamExt;
    let ended = tokio::time::timeout(Duration::from_secs(30), async {
        while let Some(Ok(message)) = socket.next().await {
            if message.is_close() {
                break;
            }
        }
    })
    .await;
    assert!(ended.is_ok(), "the socket was not closed");
}

#[tokio::test]
async fn garbage_gets_a_clear_failure_and_the_session_is_intact() {
    let server = server().await;
    let mut tab = SocketTab::open(&server).await;
    let event = tab.event(INCREMENT, ());
    tab.send(&[event]).await.unwrap();
    tab.settled().await;

    let oversize = format!("\0{}", "x".repeat(70_000));
    let garbage = [
        Message::Text("hello".into()),
        Message::Binary(vec![7, 1, 2].into()),
        Message::Binary(b"\0{not json".to_vec().into()),
        Message::Binary(
            stateside_wire::socket_frame::encode(&Upward::Hello {
                resume: None,
                since: None,
            })
            .into(),
        ),
        Message::Binary(oversize.into_bytes().into()),
    ];
    for (n, message) in garbage.into_iter().enumerate() {
        let mut twin = SocketTab::join(&tab.token);
        twin.connect(&server, None).await.unwrap();
        twin.raw(message).await.unwrap();
        twin.closed().await;
        let failed = twin.failed.clone();
        if n == 4 {
            assert_eq!(failed, Some(ProtocolError::TooLarge { limit: 65536 }));
        } else {
            assert!(
                matches!(&failed, Some(ProtocolError::Malformed(why)) if !why.is_empty()),
                "garbage {n}: {failed:?}"
            );
        }
    }

    // A first message that is not a hello.
    let mut rude = SocketTab::join(&tab.token);
    let (socket, _) = tokio_tungstenite::connect_async(SocketTab::request(&server, None))
        .await
        .unwrap();
    rude.adopt(socket);
    rude.say(&Upward::Pong).await.unwrap();
    rude.closed().await;
    assert!(matches!(rude.failed, Some(ProtocolError::Malformed(_))));

    // The session is untouched, and goes on.
    let event = tab.event(INCREMENT, ());
    tab.send(&[event]).await.unwrap();
    tab.settled().await;
    let mut again = SocketTab::join(&tab.token);
    again.connect(&server, None).await.unwrap();
    again.until(|tab| count(tab) == 2).await;
    assert_eq!(again.token, tab.token);
}

#[tokio::test]
async fn a_hello_for_an_unknown_token_gets_a_new_session() {
    let server = server().await;
    for token in ["f".repeat(32), "../../etc".to_owned()] {
        let mut lost = SocketTab::join(&token);
        lost.connect(&server, Some(9)).await.unwrap();
        assert_ne!(lost.token, token, "a new session, under a new token");
        assert!(
            matches!(lost.received.first(), Some(ServerMessage::Snapshot { .. }))
                || lost.received.is_empty()
        );
        let event = lost.event(APPEND_ITEM, "fresh".to_owned());
        lost.send(&[event]).await.unwrap();
        lost.settled().await;
        assert_eq!(items(&lost), ["fresh"]);
    }
}

#[tokio::test]
async fn twenty_sockets_to_one_server_all_live() {
    let server = server().await;
    let tabs = join_all((0..20).map(|_| SocketTab::open(&server))).await;
    let tabs = join_all(tabs.into_iter().enumerate().map(|(n, mut tab)| async move {
        for _ in 0..=n % 3 {
            let event = tab.event(APPEND_ITEM, format!("tab {n}"));
            tab.send(&[event]).await.unwrap();
        }
        tab.settled().await;
        tab
    }))
    .await;
    let mut tokens: Vec<&str> = tabs.iter().map(|tab| tab.token.as_str()).collect();
    tokens.sort();
    tokens.dedup();
    assert_eq!(tokens.len(), 20);
    for (n, tab) in tabs.iter().enumerate() {
        assert_eq!(items(tab), vec![format!("tab {n}"); n % 3 + 1]);
    }
}

/// A socket that breaks is just gone: the tab's next socket resumes.
#[tokio::test]
async fn a_dropped_socket_is_resumed_by_the_next() {
    let server = server().await;
    let mut tab = SocketTab::open(&server).await;
    let event = tab.event(INCREMENT, ());
    tab.send(&[event]).await.unwrap();
    tab.settled().await;
    let version = tab.document().version();
    let token = tab.token.clone();
    tab.disconnect();
    let event = tab.event(INCREMENT, ());
    assert!(matches!(
        tab.send(std::slice::from_ref(&event)).await,
        Err(Lost::StreamEnded)
    ));
    tab.connect(&server, Some(version)).await.unwrap();
    assert_eq!(tab.token, token);
    tab.send(&[event]).await.unwrap();
    tab.settled().await;
    assert_eq!(count(&tab), 2);
}

/// A tab that stops reading does not make the server buffer its stream:
/// the socket pushes back, the tab's cursor falls out of the live feed, and
/// it is resynced (here from a snapshot, the ring being small), ending on
/// the same document as a tab that kept up.
#[tokio::test]
async fn a_slow_reader_is_resynced_not_buffered() {
    let server = server().await;
    let mut slow = SocketTab::new();
    slow.connect_narrow(&server, 4096).await.unwrap();
    let mut quick = SocketTab::join(&slow.token);
    quick.connect(&server, None).await.unwrap();
    const STEPS: u32 = 20_000;
    let task = quick.event(BG_INCREMENT, STEPS);
    quick.send(&[task]).await.unwrap();
    quick.until(|tab| count(tab) == i64::from(STEPS)).await;
    // Only now does the slow tab read: it must catch up, in order.
    slow.until(|tab| count(tab) == i64::from(STEPS)).await;
    assert_eq!(slow.document().value(), quick.document().value());
    assert!(
        slow.received
            .iter()
            .skip(1)
            .any(|message| matches!(message, ServerMessage::Snapshot { .. })),
        "the slow tab was resynced"
    );
}
