//! The event decoder: what the server does with a client's bytes.
//!
//! The input is read one line per event, as `serde_json::from_slice::<
//! ClientEvent>` reads a request's events; what decodes is submitted to a real
//! session of a small app through the public API, the way `send_events`
//! does, and an empty line lets the session run what is queued (otherwise
//! events pile up, and a flood meets the queue limit).
//!
//! Checked: nothing panics; every refusal is one of the typed errors a
//! client can cause, and says what it is; each receipt agrees with a model
//! of the seqs taken so far (a duplicate is never taken twice, a refused
//! seq is never taken); and once the session settles, exactly the taken seqs
//! up to the first gap ran, each once and in seq order, and a client copy
//! built from the stream equals the server's document with every one acked.

#![no_main]

use std::collections::BTreeMap;

use libfuzzer_sys::fuzz_target;
use stateside::{Config, Error, transport::{ClientEvent, Submitted}};
use stateside_fuzz::{
    follower::Follower,
    rig::{NOTE, Pad, Rig},
};
use stateside_wire::Document;

/// Small limits, so that short inputs reach them.
fn config() -> Config {
    Config {
        queue_limit: 8,
        seq_window: 16,
        max_tasks_per_session: 2,
        ..Config::default()
    }
}

fuzz_target!(|data: &[u8]| {
    let rig = Rig::new(config());
    rig.runtime.block_on(async {
        let (mut follower, _) = Follower::connect(&rig.session, Document::default(), None);
        // Seq -> the tag of a well-formed `NOTE`, for every seq the session took.
        let mut taken: BTreeMap<u64, Option<u64>> = BTreeMap::new();
        for line in data.split(|&byte| byte == b'\n').take(64) {
            if line.is_empty() {
                rig.settle().await;
                continue;
            }
            let Ok(event) = serde_json::from_slice::<ClientEvent>(line) else {
                continue;
            };
            let seq = event.seq;
            let note = (event.handler == NOTE.name())
                .then(|| serde_json::from_value::<u64>(event.args.clone()).ok())
                .flatten();
            let expected = rig.session.next_seq();
            match rig.session.submit(event) {
                Ok(Submitted::Accepted | Submitted::Held) => {
                    assert!(taken.insert(seq, note).is_none(), "seq {seq} taken twice");
                }
                Ok(Submitted::Duplicate) => {
                    assert!(seq < expected || taken.contains_key(&seq), "{seq} is new");
                }
                Err(error @ (Error::UnknownHandler(_) | Error::BadArgs { .. })) => {
                    // Refused for good, but its seq is used so later ones flow.
                    assert!(error.handler().is_some());
                    assert!(taken.insert(seq, None).is_none(), "seq {seq} taken twice");
                }
                Err(Error::SeqOutOfWindow { seq: refused, .. }) => {
                    assert_eq!(refused, seq);
                    assert!(seq > expected + config().seq_window);
                }
                Err(Error::Busy { waiting }) => assert!(waiting >= config().queue_limit),
                Err(error) => panic!("a client cannot cause this: {error}"),
            }
        }
        rig.settle().await;

        let next = rig.session.next_seq();
        let first_gap = (1..).find(|seq| !taken.contains_key(seq)).expect("finite");
        assert_eq!(next, first_gap, "the session ran up to the first gap");
        let ran: Vec<u64> = taken.range(..next).filter_map(|(_, note)| *note).collect();
        let pad = rig.session.read(|pad: &Pad| pad.clone()).await;
        assert_eq!(pad.notes, ran, "each taken note ran once, in seq order");

        follower.catch_up();
        assert_eq!(
            follower.document().acked(),
            next - 1,
            "everything that ran is acked"
        );
        let mut fresh = Document::default();
        fresh.apply(&rig.fresh_snapshot()).unwrap();
        assert_eq!(follower.document().value(), fresh.value());
        assert_eq!(follower.document().version(), fresh.version());
    });
});
