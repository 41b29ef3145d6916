//! The first slice's promises: serial foreground, concurrent background,
//! exact counts, and a client copy equal to the server's.

mod support;

use support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn foreground_events_run_one_at_a_time_in_order() {
    let engine = engine();
    let mut client = Client::connect(engine.create_session());
    // A slow event first: later fast ones must still wait for it.
    client.send(SLOW_RECORD, ("slow".to_owned(), 200));
    for tag in ["a", "b", "c"] {
        client.send(RECORD, tag.to_owned());
    }
    let counter = client.until(|c| c.log.len() == 4).await;
    assert_eq!(counter.log, ["slow", "a", "b", "c"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn out_of_order_arrivals_apply_in_seq_order_and_repeats_once() {
    let engine = engine();
    let session = engine.create_session();
    let mut client = Client::connect(session.clone());
    let event = |seq: u64, tag: &str| {
        let mut event = RECORD.call(&tag.to_owned()).unwrap();
        event.seq = seq;
        event
    };
    assert_eq!(
        session.submit(event(2, "two")),
        Ok(stateside::Submitted::Held)
    );
    assert_eq!(
        session.submit(event(1, "one")),
        Ok(stateside::Submitted::Accepted)
    );
    assert_eq!(
        session.submit(event(1, "one")),
        Ok(stateside::Submitted::Duplicate)
    );
    assert_eq!(
        session.submit(event(2, "two")),
        Ok(stateside::Submitted::Duplicate)
    );
    let counter = client.until(|c| c.log.len() == 2).await;
    assert_eq!(counter.log, ["one", "two"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn background_task_runs_while_foreground_events_are_processed() {
    let engine = engine();
    let mut client = Client::connect(engine.create_session());
    client.send(SLEEP_THEN_RECORD, ("background".to_owned(), 300));
    client.send(RECORD, "foreground".to_owned());
    let counter = client.until(|c| c.log.len() == 2).await;
    // The foreground event did not wait for the 300 ms task.
    assert_eq!(counter.log, ["foreground", "background"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn locked_increments_and_foreground_increments_are_exact() {
    let engine = engine();
    let mut client = Client::connect(engine.create_session());
    for round in 0..20 {
        if round < 4 {
            client.send(LOCKED_INCREMENTS, 50);
        }
        client.send(INCREMENT, ());
    }
    let counter = client.until(|c| c.count >= 220).await;
    assert_eq!(counter.count, 220);
    // Let the tasks wind down, then the mirror must equal the server.
    client.settled().await;
    let server = client.session.read(|c: &Counter| c.clone()).await;
    assert_eq!(server.count, 220);
    assert_eq!(client.document.state::<Counter>().unwrap(), server);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_version_arrives_once_and_in_order() {
    let engine = engine();
    let session = engine.create_session();
    let mut client = Client::connect(session.clone());
    let mut versions = Vec::new();
    let mut stream = session.subscribe(Some(0)).live;
    for _ in 0..3 {
        client.send(LOCKED_INCREMENTS, 30);
    }
    client.until(|c| c.count == 90).await;
    while let Ok(message) = stream.try_recv() {
        if let stateside::ServerMessage::Update(update) = &*message {
            if !update.ops.is_empty() {
                versions.push(update.version);
            }
        }
    }
    assert_eq!(versions, (1..=versions.len() as u64).collect::<Vec<_>>());
    assert_eq!(session.version(), versions.len() as u64);
}
