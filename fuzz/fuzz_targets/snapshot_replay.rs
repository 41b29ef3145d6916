//! Snapshot and replay: clients that reconnect from any version, at any
//! point in a random run of commits, against a real session.
//!
//! A recorder subscribes first and keeps the document at every version, so
//! a reconnecting client can start from what it would really hold. Each
//! `subscribe(since)` is checked against the rule in `outbox.rs`: a client
//! at the current version gets one ack; one still covered by the replay ring
//! gets exactly the versions after its own, then an ack; any other (too far
//! behind, from the future, or fresh) gets one snapshot. Every client then
//! follows its live feed, and whenever the session settles each copy built
//! from backlog + live must equal a fresh snapshot, with contiguous versions
//! all the way (the mirror checks every message).

#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use serde_json::json;
use stateside::{Config, HandlerId, transport::{ClientEvent, ServerMessage}};
use stateside_fuzz::{
    follower::Follower,
    rig::{BUMP, FAIL, NOOP, NOTE, PUT, REMOVE, Rig},
};
use stateside_wire::Document;

/// Keys that need JSON Pointer escaping, and a plain one.
#[derive(Arbitrary, Debug, Clone, Copy)]
enum Key {
    Plain,
    Slash,
    Tilde,
    Empty,
}

impl Key {
    fn text(self) -> String {
        match self {
            Key::Plain => "k",
            Key::Slash => "a/b",
            Key::Tilde => "~0",
            Key::Empty => "",
        }
        .to_owned()
    }
}

/// Where a reconnecting client says it is.
#[derive(Arbitrary, Debug)]
enum Since {
    Fresh,
    /// `by` versions behind the session (clamped at 0).
    Behind(u8),
    /// From the future: the server restarted and lost versions.
    Ahead(u8),
}

#[derive(Arbitrary, Debug)]
enum Step {
    Note(u8),
    Put(Key, i8),
    Remove(Key),
    Fail(Key),
    Bump(u8),
    Noop,
    /// Client `client % 3` drops its stream and reconnects.
    Reconnect {
        client: u8,
        since: Since,
    },
    /// One turn for the actor and the tasks: a commit may be half done.
    Yield,
    /// Run everything queued, then compare every copy with the server's.
    Settle,
}

#[derive(Arbitrary, Debug)]
struct Input {
    /// Replay ring capacity, `ring % 6`: 0 (always a snapshot) up to 5.
    ring: u8,
    steps: Vec<Step>,
}

struct Run<'a> {
    rig: &'a Rig,
    seq: u64,
    /// Subscribed first, never reconnects: `history[v]` is the document at v.
    recorder: Follower,
    history: Vec<Document>,
    clients: Vec<Follower>,
    ring: u64,
}

impl Run<'_> {
    fn submit<A: serde::Serialize>(&mut self, handler: HandlerId<A>, args: A) {
        self.seq += 1;
        let event = ClientEvent {
            seq: self.seq,
            ..handler.call(&args).expect("arguments serialise")
        };
        self.rig
            .session
            .submit(event)
            .expect("a well-formed event is taken");
    }

    fn record(&mut self) {
        let passed = self.recorder.catch_up();
        self.history.extend(passed);
        assert_eq!(self.history.len() as u64, self.rig.session.version() + 1);
    }

    fn reconnect(&mut self, client: usize, since: &Since) {
        self.record();
        let version = self.rig.session.version();
        let (held, since) = match since {
            Since::Fresh => (Document::default(), None),
            Since::Behind(by) => {
                let since = version.saturating_sub(u64::from(*by));
                (self.history[since as usize].clone(), Some(since))
            }
            Since::Ahead(by) => {
                let since = version + 1 + u64::from(*by);
                let mut held = Document::default();
                let future = ServerMessage::Snapshot {
                    version: since,
                    acked: 0,
                    state: json!({}),
                };
                held.apply(&future).expect("a snapshot applies");
                (held, Some(since))
            }
        };
        let (follower, backlog) = Follower::connect(&self.rig.session, held, since);
        let versions: Vec<(bool, u64)> = backlog
            .iter()
            .map(|message| match &**message {
                ServerMessage::Snapshot { version, .. } => (true, *version),
                ServerMessage::Update(update) => (false, update.version),
            })
            .collect();
        let expected: Vec<(bool, u64)> = match since {
            Some(since) if since == version => vec![(false, version)],
            // The ring holds the last `ring` versions.
            Some(since) if since < version && version - since <= self.ring => {
                let mut replay: Vec<_> = (since + 1..=version).map(|v| (false, v)).collect();
                replay.push((false, version));
                replay
            }
            _ => vec![(true, version)],
        };
        assert_eq!(
            versions, expected,
            "since {since:?} at version {version}, ring {}",
            self.ring
        );
        self.clients[client] = follower;
    }

    fn check(&mut self) {
        self.record();
        let mut fresh = Document::default();
        fresh
            .apply(&self.rig.fresh_snapshot())
            .expect("a snapshot applies");
        for client in self.clients.iter_mut().chain([&mut self.recorder]) {
            client.catch_up();
            assert_eq!(client.document().version(), fresh.version());
            assert_eq!(client.document().value(), fresh.value());
            assert_eq!(client.document().acked(), self.seq);
        }
    }
}

fuzz_target!(|input: Input| {
    let ring = u64::from(input.ring % 6);
    let config = Config {
        replay_ring: ring as usize,
        // Larger than anything 128 steps can send, so no client lags.
        stream_buffer: 4096,
        ..Config::default()
    };
    let rig = Rig::new(config);
    rig.runtime.block_on(async {
        let connect = || Follower::connect(&rig.session, Document::default(), None).0;
        let (recorder, clients) = (connect(), vec![connect(), connect(), connect()]);
        let mut run = Run {
            rig: &rig,
            seq: 0,
            history: vec![recorder.document().clone()],
            recorder,
            clients,
            ring,
        };
        for step in input.steps.iter().take(128) {
            match step {
                Step::Note(tag) => run.submit(NOTE, u64::from(*tag)),
                Step::Put(key, value) => run.submit(PUT, (key.text(), i64::from(*value))),
                Step::Remove(key) => run.submit(REMOVE, key.text()),
                Step::Fail(key) => run.submit(FAIL, key.text()),
                Step::Bump(n) => run.submit(BUMP, *n),
                Step::Noop => run.submit(NOOP, ()),
                Step::Reconnect { client, since } => run.reconnect(usize::from(client % 3), since),
                Step::Yield => tokio::task::yield_now().await,
                Step::Settle => {
                    run.rig.settle().await;
                    run.check();
                }
            }
        }
        run.rig.settle().await;
        run.check();
    });
});
