//! The wire protocol against the real server over real sockets: events are
//! applied once and in seq order, a reconnecting tab gets a replay or a
//! snapshot, its copy ends equal to the server's, and bad input gets a
//! clear answer without harming the session.

mod support;

use app::bench::{APPEND_ITEM, Bench, INCREMENT, SLOW};
use serde_json::json;
use stateside_wire::{
    Document, ProtocolError, Receipt, Refusal, RefusalReason, SEND_PATH, STREAM_PATH, ServerMessage,
};
use support::{Instance, Lost, Tab, reply};

/// A small ring, so that a short run can fall out of it.
const RING: &str = "4";

async fn server() -> Instance {
    Instance::start(&["--replay-ring", RING]).await
}

fn items(tab: &Tab) -> Vec<String> {
    let bench = tab.document().state::<Bench>().unwrap();
    bench.items.iter().cloned().collect()
}

#[tokio::test]
async fn a_duplicate_seq_is_acknowledged_and_applied_once() {
    let server = server().await;
    let mut tab = Tab::open(&server).await;
    tab.connect(&server, None).await;
    let event = tab.event(INCREMENT, ());
    assert_eq!(
        tab.send(&server, std::slice::from_ref(&event)).await,
        [Receipt::Accepted]
    );
    // A retry after a lost response, and the same event twice in a batch.
    assert_eq!(
        tab.send(&server, std::slice::from_ref(&event)).await,
        [Receipt::Duplicate]
    );
    let next = tab.event(INCREMENT, ());
    assert_eq!(
        tab.send(&server, &[event, next.clone(), next]).await,
        [Receipt::Duplicate, Receipt::Accepted, Receipt::Duplicate]
    );
    tab.settled().await;
    assert_eq!(tab.document().state::<Bench>().unwrap().count, 2);
}

#[tokio::test]
async fn out_of_order_events_are_held_and_applied_in_seq_order() {
    let server = server().await;
    let mut tab = Tab::open(&server).await;
    tab.connect(&server, None).await;
    let first = tab.event(APPEND_ITEM, "first".to_owned());
    let second = tab.event(APPEND_ITEM, "second".to_owned());
    let third = tab.event(APPEND_ITEM, "third".to_owned());
    assert_eq!(tab.send(&server, &[third]).await, [Receipt::Held]);
    assert_eq!(tab.send(&server, &[second]).await, [Receipt::Held]);
    assert_eq!(tab.send(&server, &[first]).await, [Receipt::Accepted]);
    tab.settled().await;
    assert_eq!(items(&tab), ["first", "second", "third"]);
}

#[tokio::test]
async fn a_gap_that_does_not_fill_is_reported_as_missing() {
    let server = server().await;
    let mut tab = Tab::open(&server).await;
    tab.connect(&server, None).await;
    let lost = tab.event(APPEND_ITEM, "lost in transit".to_owned());
    let after = tab.event(APPEND_ITEM, "after".to_owned());
    assert_eq!(tab.send(&server, &[after]).await, [Receipt::Held]);
    tab.until(|tab| {
        tab.received.iter().any(
            |message| matches!(message, ServerMessage::Update(update) if update.missing == Some(1)),
        )
    })
    .await;
    // The client resends from the missing seq; both apply, in order.
    assert_eq!(tab.send(&server, &[lost]).await, [Receipt::Accepted]);
    tab.settled().await;
    assert_eq!(items(&tab), ["lost in transit", "after"]);
}

#[tokio::test]
async fn reconnecting_inside_the_ring_replays_and_outside_gets_a_snapshot() {
    let server = server().await;
    let mut tab = Tab::open(&server).await;
    tab.connect(&server, None).await;
    for n in 0..6 {
        let event = tab.event(APPEND_ITEM, format!("item {n}"));
        tab.send(&server, &[event]).await;
    }
    tab.settled().await;
    let version = tab.document().version();
    assert_eq!(version, 6);

    // Back from version 4, which the ring of 4 still covers: a replay.
    let mut behind = Document::default();
    behind.apply(&ServerMessage::Snapshot {
        version: 4,
        acked: 4,
        state: json!({ "bench": { "count": 0, "items": ["item 0", "item 1", "item 2", "item 3"], "last_seq": -1 } }),
    })
    .unwrap();
    tab.hold(behind);
    tab.connect(&server, Some(4)).await;
    tab.until(|tab| tab.document().version() == version && tab.document().acked() == 6)
        .await;
    assert!(
        tab.received
            .iter()
            .all(|message| matches!(message, ServerMessage::Update(_))),
        "a replay, not a snapshot: {:?}",
        tab.received
    );
    let replayed: Vec<u64> = tab
        .received
        .iter()
        .filter_map(|message| match message {
            ServerMessage::Update(update) if !update.ops.is_empty() => Some(update.version),
            _ => None,
        })
        .collect();
    assert_eq!(replayed, [5, 6]);

    // Back from version 1, which left the ring: one snapshot.
    tab.connect(&server, Some(1)).await;
    tab.until(|tab| !tab.received.is_empty()).await;
    assert!(matches!(
        tab.received[0],
        ServerMessage::Snapshot { version: 6, .. }
    ));

    // Either way the copy equals the server's own, as a fresh tab sees it.
    let mut fresh = Tab::join(&tab.token);
    fresh.connect(&server, None).await;
    fresh
        .until(|fresh| fresh.document().version() == version)
        .await;
    assert_eq!(fresh.document().value(), tab.document().value());
    assert_eq!(items(&tab).len(), 6);
}

#[tokio::test]
async fn bad_input_gets_a_clear_answer_and_the_session_goes_on() {
    let server = server().await;
    let mut tab = Tab::open(&server).await;
    tab.connect(&server, None).await;
    let post = |body: String| {
        tab.http
            .post(server.url(SEND_PATH))
            .header("content-type", "application/json")
            .body(body)
            .send()
    };
    let refusal = |response: reqwest::Response| async move {
        match reply::<Vec<Receipt>>(response).await {
            Err(Lost::Refused(error)) => error,
            other => panic!("not refused: {other:?}"),
        }
    };

    let malformed = refusal(post("{\"token\": ".to_owned()).await.unwrap()).await;
    assert!(
        matches!(&malformed, ProtocolError::Malformed(why) if why.contains("EOF")),
        "{malformed:?}"
    );

    let forged = json!({ "token": "0".repeat(32), "events": [] }).to_string();
    let unknown = refusal(post(forged).await.unwrap()).await;
    assert_eq!(unknown, ProtocolError::UnknownSession);

    let oversize = json!({ "token": tab.token, "events": [{ "seq": 1, "handler": "bench/append_item", "args": "x".repeat(70_000) }] });
    let status = post(oversize.to_string()).await.unwrap().status();
    assert_eq!(status.as_u16(), 413);

    let cross_origin = tab
        .http
        .get(server.url(&format!("{STREAM_PATH}?token={}", tab.token)))
        .header("origin", "http://elsewhere.example")
        .send()
        .await
        .unwrap();
    assert_eq!(cross_origin.status().as_u16(), 403);

    let mut unknown_handler = tab.event(INCREMENT, ());
    unknown_handler.handler = "bench/no_such_handler".to_owned();
    let mut wrong_args = tab.event(INCREMENT, ());
    wrong_args.args = json!("not a unit");
    let mut far_future = tab.event(INCREMENT, ());
    far_future.seq += 1_000_000;
    let good = tab.event(INCREMENT, ());
    let receipts = tab
        .send(&server, &[unknown_handler, wrong_args, far_future, good])
        .await;
    assert_eq!(
        receipts[0],
        Receipt::Refused(Refusal {
            reason: RefusalReason::UnknownHandler,
            message: "unknown handler `bench/no_such_handler`".to_owned()
        })
    );
    assert!(
        matches!(&receipts[1], Receipt::Refused(Refusal { reason: RefusalReason::BadArgs, message })
            if message.starts_with("bad arguments for `bench/increment`")),
        "{receipts:?}"
    );
    assert!(
        matches!(&receipts[2], Receipt::Refused(Refusal { reason: RefusalReason::SeqOutOfWindow, message })
            if message.contains("too far ahead")),
        "{receipts:?}"
    );
    // The far-future seq was refused, not taken: the good event is the next
    // one after it and waits for it; sending the missing seq releases it.
    assert_eq!(receipts[3], Receipt::Held);
    let mut refill = tab.event(INCREMENT, ());
    refill.seq -= 2;
    assert_eq!(tab.send(&server, &[refill]).await, [Receipt::Accepted]);
    tab.until(|tab| tab.document().state::<Bench>().unwrap().count == 2)
        .await;
    let notices: Vec<String> = tab
        .received
        .iter()
        .filter_map(|message| match message {
            ServerMessage::Update(update) => {
                update.error.as_ref().map(|notice| notice.message.clone())
            }
            _ => None,
        })
        .collect();
    assert!(
        notices
            .iter()
            .any(|notice| notice.contains("unknown handler")),
        "{notices:?}"
    );
}

#[tokio::test]
async fn a_flood_gets_busy_receipts_not_unbounded_memory() {
    let server = Instance::start(&["--queue-limit", "4"]).await;
    let mut tab = Tab::open(&server).await;
    tab.connect(&server, None).await;
    let mut flood = vec![tab.event(SLOW, 300)];
    flood.extend((0..10).map(|_| tab.event(INCREMENT, ())));
    let receipts = tab.send(&server, &flood).await;
    // The batch stops at the first Busy: the client resends from there.
    assert_eq!(receipts.last(), Some(&Receipt::Busy), "{receipts:?}");
    let accepted = receipts
        .iter()
        .filter(|receipt| **receipt == Receipt::Accepted)
        .count();
    assert!(accepted <= 5, "{receipts:?}");
    // Resending the rest once the queue drains loses nothing.
    tab.until(|tab| tab.document().acked() >= accepted as u64)
        .await;
    let rest = &flood[accepted..];
    for event in rest {
        loop {
            if tab.send(&server, std::slice::from_ref(event)).await == [Receipt::Accepted] {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    }
    tab.settled().await;
    assert_eq!(tab.document().state::<Bench>().unwrap().count, 11);
}

#[tokio::test]
async fn two_streams_on_one_session_both_follow_it() {
    // A duplicated tab shares its token: both copies get every update,
    // rather than the older one being cut off, because each is a view of
    // the same state and either may be the one the user is looking at.
    let server = server().await;
    let mut tab = Tab::open(&server).await;
    tab.connect(&server, None).await;
    let mut twin = Tab::join(&tab.token);
    twin.connect(&server, None).await;
    let event = tab.event(APPEND_ITEM, "seen by both".to_owned());
    tab.send(&server, &[event]).await;
    tab.settled().await;
    twin.until(|twin| twin.document().acked() == 1).await;
    assert_eq!(twin.document().value(), tab.document().value());
    assert_eq!(items(&twin), ["seen by both"]);
}

#[tokio::test]
async fn no_state_reaches_another_session_or_a_hostile_client() {
    let server = server().await;
    let mut alice = Tab::open(&server).await;
    let mut bob = Tab::open(&server).await;
    alice.connect(&server, None).await;
    bob.connect(&server, None).await;
    let secret = alice.event(APPEND_ITEM, "alice's secret".to_owned());
    alice.send(&server, &[secret]).await;
    alice.settled().await;

    // A hostile client guesses tokens and replays Alice's events with them.
    let mut mallory = Tab::join(&"f".repeat(32));
    let stolen = mallory.event(APPEND_ITEM, "injected".to_owned());
    let refused = mallory.try_send(&server, &[stolen]).await;
    assert!(
        matches!(refused, Err(Lost::Refused(ProtocolError::UnknownSession))),
        "{refused:?}"
    );
    let peek = mallory
        .http
        .get(server.url(&format!("{STREAM_PATH}?token={}", mallory.token)))
        .send()
        .await
        .unwrap();
    assert_eq!(peek.status().as_u16(), 404);
    let malformed = mallory
        .http
        .get(server.url(&format!("{STREAM_PATH}?token=../../etc")))
        .send()
        .await
        .unwrap();
    assert_eq!(malformed.status().as_u16(), 400);

    // Bob's own event shows only Bob's state.
    let own = bob.event(APPEND_ITEM, "bob's".to_owned());
    bob.send(&server, &[own]).await;
    bob.settled().await;
    assert_eq!(items(&bob), ["bob's"]);
    let everything_bob_saw = serde_json::to_string(&bob.received).unwrap();
    assert!(!everything_bob_saw.contains("alice"));
    assert_eq!(items(&alice), ["alice's secret"]);
}

/// Every refusal on the fallback path is a `ProtocolError` with the status
/// its case calls for, not a 500 with a message.
#[tokio::test]
async fn each_refusal_on_the_fallback_path_has_its_own_status() {
    let server = server().await;
    let tab = Tab::open(&server).await;
    let post = |path: &str, body: reqwest::Body| {
        tab.http
            .post(server.url(path))
            .header("content-type", "application/json")
            .body(body)
            .send()
    };
    let refused = |response: reqwest::Response| async move {
        let status = response.status().as_u16();
        match reply::<serde_json::Value>(response).await {
            Err(Lost::Refused(error)) => (status, error),
            other => panic!("not a typed refusal ({status}): {other:?}"),
        }
    };
    let send =
        |token: &str| reqwest::Body::from(json!({ "token": token, "events": [] }).to_string());

    let (status, error) = refused(post(SEND_PATH, "[1, 2".into()).await.unwrap()).await;
    assert_eq!(status, 400);
    assert!(matches!(error, ProtocolError::Malformed(_)), "{error:?}");

    let (status, error) = refused(post(SEND_PATH, send("../../etc")).await.unwrap()).await;
    assert_eq!((status, error), (400, ProtocolError::MalformedToken));

    let (status, error) = refused(post(SEND_PATH, send(&"0".repeat(32))).await.unwrap()).await;
    assert_eq!((status, error), (404, ProtocolError::UnknownSession));

    // Too large, whether the body says its length or not.
    let too_large = ProtocolError::TooLarge { limit: 65536 };
    let big = json!({ "token": tab.token, "events": [{ "seq": 1, "handler": "bench/append_item", "args": "x".repeat(70_000) }] }).to_string();
    let (status, error) = refused(post(SEND_PATH, big.clone().into()).await.unwrap()).await;
    assert_eq!((status, &error), (413, &too_large));
    let chunks: Vec<Result<String, std::io::Error>> = big
        .as_bytes()
        .chunks(8192)
        .map(|chunk| Ok(String::from_utf8_lossy(chunk).into_owned()))
        .collect();
    let streamed = reqwest::Body::wrap_stream(futures::stream::iter(chunks));
    let (status, error) = refused(post(SEND_PATH, streamed).await.unwrap()).await;
    assert_eq!((status, &error), (413, &too_large));

    // The stream route answers the same way.
    let stream = |token: String| {
        tab.http
            .get(server.url(&format!("{STREAM_PATH}?token={token}")))
            .send()
    };
    let (status, error) = refused(stream("0".repeat(32)).await.unwrap()).await;
    assert_eq!((status, error), (404, ProtocolError::UnknownSession));
    let (status, error) = refused(stream("nope".to_owned()).await.unwrap()).await;
    assert_eq!((status, error), (400, ProtocolError::MalformedToken));
}

/// A request that reaches the server as it shuts down is told so with a
/// 503, so the client retries elsewhere or later instead of giving up.
#[tokio::test]
async fn a_call_during_shutdown_gets_503() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let mut server = server().await;
    let tab = Tab::open(&server).await;
    let host = server.base.trim_start_matches("http://").to_owned();
    let body = json!({ "token": tab.token, "events": [] }).to_string();
    // The request's head, with `Expect: 100-continue`: the server answers
    // "continue" once the request is being served, so it is in flight.
    let mut tcp = tokio::net::TcpStream::connect(&host).await.unwrap();
    let head = format!(
        "POST {SEND_PATH} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nExpect: 100-continue\r\n\r\n",
        body.len()
    );
    tcp.write_all(head.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    while !String::from_utf8_lossy(&answer).contains("100 Continue\r\n\r\n") {
        let mut buffer = [0; 1024];
        let read = tcp.read(&mut buffer).await.unwrap();
        assert!(read > 0, "closed before continuing");
        answer.extend_from_slice(&buffer[..read]);
    }
    // SIGTERM; the engine closes before the listener does, so once new
    // connections are refused, the rest of the body arrives after it.
    server.signal_terminate();
    while tokio::net::TcpStream::connect(&host).await.is_ok() {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    tcp.write_all(body.as_bytes()).await.unwrap();
    let mut response = Vec::new();
    tcp.read_to_end(&mut response).await.unwrap();
    let response = String::from_utf8_lossy(&response).into_owned();
    let response = response.rsplit_once("HTTP/1.1 ").unwrap().1;
    assert!(response.starts_with("503"), "{response}");
    let json = response.split_once("\r\n\r\n").unwrap().1;
    let error: ProtocolError = serde_json::from_str(json).unwrap();
    assert_eq!(error, ProtocolError::ShuttingDown);
    server.exited().await;
}
