//! Rule 10: every client event carries a seq; the server applies each one
//! once and in order, so retries are harmless.

mod support;

use stateside::transport::Submitted;
use support::*;

fn event(seq: u64, tag: &str) -> stateside::transport::ClientEvent {
    let mut event = RECORD.call(&tag.to_owned()).unwrap();
    event.seq = seq;
    event
}

#[tokio::test(start_paused = true)]
async fn out_of_order_arrivals_apply_in_seq_order() {
    let engine = engine();
    let session = engine.open().unwrap();
    let mut client = Client::connect(session.clone());
    assert_eq!(session.submit(event(3, "three")), Ok(Submitted::Held));
    assert_eq!(session.submit(event(2, "two")), Ok(Submitted::Held));
    assert_eq!(session.submit(event(1, "one")), Ok(Submitted::Accepted));
    let counter: Counter = client.until(|c: &Counter| c.log.len() == 3).await;
    assert_eq!(counter.log, ["one", "two", "three"]);
    assert_eq!(session.next_seq(), 4);
}

#[tokio::test(start_paused = true)]
async fn retries_are_acknowledged_and_ignored() {
    let engine = engine();
    let session = engine.open().unwrap();
    let mut client = Client::connect(session.clone());
    assert_eq!(session.submit(event(1, "one")), Ok(Submitted::Accepted));
    assert_eq!(session.submit(event(2, "two")), Ok(Submitted::Accepted));
    client.until(|c: &Counter| c.log.len() == 2).await;
    // A retry of an applied event, and of one that is being held.
    assert_eq!(session.submit(event(1, "one")), Ok(Submitted::Duplicate));
    assert_eq!(session.submit(event(4, "four")), Ok(Submitted::Held));
    assert_eq!(session.submit(event(4, "four")), Ok(Submitted::Duplicate));
    assert_eq!(session.submit(event(3, "three")), Ok(Submitted::Accepted));
    let counter: Counter = client.until(|c: &Counter| c.log.len() == 4).await;
    assert_eq!(counter.log, ["one", "two", "three", "four"]);
    assert_eq!(client.document().acked(), 4);
}

#[tokio::test(start_paused = true)]
async fn a_refused_event_still_uses_its_seq() {
    let engine = engine();
    let session = engine.open().unwrap();
    let mut client = Client::connect(session.clone());
    let mut unknown = event(1, "x");
    unknown.handler = "no_such_handler".to_owned();
    assert!(session.submit(unknown).is_err());
    assert_eq!(session.submit(event(2, "two")), Ok(Submitted::Accepted));
    let counter: Counter = client.until(|c: &Counter| c.log.len() == 1).await;
    assert_eq!(counter.log, ["two"]);
    assert_eq!(client.document().acked(), 2);
    assert_eq!(client.notices().len(), 1);
}
