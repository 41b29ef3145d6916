//! The engine's own costs, with no HTTP in the way (`cargo bench -p
//! stateside --bench engine`):
//!
//! - `session/*`: events through one session actor: back to back (submit
//!   all, await the last ack) and one at a time (submit, await its ack).
//! - `patch/*`: what a change costs as the state grows: an append to a list
//!   of 10 or 10,000 items (pushed then popped, so the size stays put), a
//!   counter bump beside such a list, and the two halves of a commit,
//!   serialising the state and diffing it, measured apart.

use std::{hint::black_box, time::Duration};

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use serde::{Deserialize, Serialize};
use stateside::{App, Config, Cx, Engine, HandlerId, SessionHandle, State, transport::ClientEvent};
use tokio::{
    runtime::Runtime,
    sync::broadcast::{Receiver, error::RecvError},
    time::Instant,
};

#[derive(Clone, Default, Serialize, Deserialize)]
struct Bench {
    count: i64,
    items: Vec<String>,
}

impl State for Bench {
    const NAME: &'static str = "bench";
}

const INCREMENT: HandlerId<()> = HandlerId::new("increment");
const PUSH: HandlerId<String> = HandlerId::new("push");
const POP: HandlerId<()> = HandlerId::new("pop");
const FILL: HandlerId<usize> = HandlerId::new("fill");

fn app() -> App {
    App::new()
        .on(INCREMENT, |mut s: Cx<Bench>, (): ()| async move {
            s.count += 1;
            Ok(())
        })
        .on(PUSH, |mut s: Cx<Bench>, item: String| async move {
            s.items.push(item);
            Ok(())
        })
        .on(POP, |mut s: Cx<Bench>, (): ()| async move {
            s.items.pop();
            Ok(())
        })
        .on(FILL, |mut s: Cx<Bench>, n: usize| async move {
            s.items = (0..n).map(item).collect();
            Ok(())
        })
}

fn item(i: usize) -> String {
    format!("item-{i:05}")
}

/// One session and a client that numbers events and follows acks.
struct Client {
    session: SessionHandle,
    live: Receiver<std::sync::Arc<stateside::transport::ServerMessage>>,
    next_seq: u64,
    acked: u64,
}

impl Client {
    fn new(engine: &Engine) -> Self {
        let session = engine.open().unwrap();
        let live = session.subscribe(None).unwrap().live;
        Self {
            session,
            live,
            next_seq: 1,
            acked: 0,
        }
    }

    fn submit<A: Serialize>(&mut self, handler: HandlerId<A>, args: &A) {
        let mut event: ClientEvent = handler.call(args).expect("args serialise");
        event.seq = self.next_seq;
        self.next_seq += 1;
        self.session.submit(event).expect("event accepted");
    }

    /// Waits until every submitted event is acknowledged.
    async fn settle(&mut self) {
        while self.acked < self.next_seq - 1 {
            match self.live.recv().await {
                Ok(message) => {
                    if let stateside::transport::ServerMessage::Update(update) = &*message {
                        self.acked = update.acked;
                    }
                }
                Err(RecvError::Lagged(_)) => {}
                Err(RecvError::Closed) => panic!("stream closed"),
            }
        }
    }
}

fn runtime() -> Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

/// Room for any number of back-to-back events.
fn engine() -> Engine {
    Engine::new(
        app(),
        Config {
            queue_limit: usize::MAX,
            seq_window: u64::MAX / 2,
            ..Config::default()
        },
    )
}

fn session(c: &mut Criterion) {
    let rt = runtime();
    let mut group = c.benchmark_group("session");
    group.throughput(Throughput::Elements(1));
    group.bench_function("back_to_back", |b| {
        b.to_async(&rt).iter_custom(|iters| async move {
            let mut client = Client::new(&engine());
            client.settle().await;
            let start = Instant::now();
            for _ in 0..iters {
                client.submit(INCREMENT, &());
            }
            client.settle().await;
            start.elapsed()
        });
    });
    group.bench_function("round_trip", |b| {
        b.to_async(&rt).iter_custom(|iters| async move {
            let mut client = Client::new(&engine());
            let start = Instant::now();
            for _ in 0..iters {
                client.submit(INCREMENT, &());
                client.settle().await;
            }
            start.elapsed()
        });
    });
    group.finish();
}

fn patch(c: &mut Criterion) {
    let rt = runtime();
    let mut group = c.benchmark_group("patch");
    for size in [10, 10_000] {
        // Two events per iteration: a push and the pop that undoes it.
        group.throughput(Throughput::Elements(2));
        group.bench_with_input(
            BenchmarkId::new("append_and_pop", size),
            &size,
            |b, &size| {
                b.to_async(&rt).iter_custom(|iters| async move {
                    let mut client = Client::new(&engine());
                    client.submit(FILL, &size);
                    client.settle().await;
                    let start = Instant::now();
                    for _ in 0..iters {
                        client.submit(PUSH, &item(size));
                        client.submit(POP, &());
                        client.settle().await;
                    }
                    start.elapsed()
                });
            },
        );
        group.throughput(Throughput::Elements(1));
        group.bench_with_input(
            BenchmarkId::new("increment_beside_list", size),
            &size,
            |b, &size| {
                b.to_async(&rt).iter_custom(|iters| async move {
                    let mut client = Client::new(&engine());
                    client.submit(FILL, &size);
                    client.settle().await;
                    let start = Instant::now();
                    for _ in 0..iters {
                        client.submit(INCREMENT, &());
                        client.settle().await;
                    }
                    start.elapsed()
                });
            },
        );
        let before = Bench {
            count: 0,
            items: (0..size).map(item).collect(),
        };
        let mut after = before.clone();
        after.items.push(item(size));
        group.bench_with_input(
            BenchmarkId::new("serialise_state", size),
            &after,
            |b, after| {
                b.iter(|| serde_json::to_value(black_box(after)).expect("serialises"));
            },
        );
        let (old, new) = (
            serde_json::to_value(&before).expect("serialises"),
            serde_json::to_value(&after).expect("serialises"),
        );
        group.bench_with_input(
            BenchmarkId::new("diff", size),
            &(old, new),
            |b, (old, new)| {
                b.iter(|| json_patch::diff(black_box(old), black_box(new)));
            },
        );
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    targets = session, patch
}
criterion_main!(benches);
