//! The benchmark state: the same fields and handlers as the Reflex anchor's
//! `benchapp.py`, so `bench/` can run workloads a to g against both backends
//! with nothing but the protocol differing. It has no page: the load
//! generator talks to it over the wire only.

use stateside_wire::{HandlerId, List, State};

#[derive(Clone, Default, Debug, PartialEq, State)]
#[state(name = "bench")]
pub struct Bench {
    pub count: i64,
    /// A JSON array of strings on the wire, as in the Reflex anchor; an
    /// append is one `add` op however long it grows.
    pub items: List<String>,
    /// Tag of the last `increment_tagged`: lets a client tell its own
    /// foreground update apart from background-task updates.
    pub last_seq: i64,
}

pub const INCREMENT: HandlerId<()> = HandlerId::new("bench/increment");
pub const INCREMENT_TAGGED: HandlerId<i64> = HandlerId::new("bench/increment_tagged");
/// Sleeps `ms` in the foreground queue, then increments.
pub const SLOW: HandlerId<u64> = HandlerId::new("bench/slow");
/// A background task doing `n` locked increments.
pub const BG_INCREMENT: HandlerId<u32> = HandlerId::new("bench/bg_increment");
/// A background task that sleeps `ms`, then increments under the lock.
pub const BG_SLOW: HandlerId<u64> = HandlerId::new("bench/bg_slow");
pub const APPEND_ITEM: HandlerId<String> = HandlerId::new("bench/append_item");
/// A background task that appends its `marker` to `items` as it starts,
/// then increments: not in the Reflex anchor. The chaos run's checker reads
/// the markers to prove no task ran twice (it is not restartable, so a
/// marker may be missing after a crash, but never doubled).
pub const BG_MARK: HandlerId<String> = HandlerId::new("bench/bg_mark");
pub const RESET_COUNT: HandlerId<()> = HandlerId::new("bench/reset_count");

/// The most locked increments one `bg_increment` task does (a fraction of a
/// second): the tests use at most 20,000, and a client must not start
/// billions.
pub const MAX_INCREMENTS: u32 = 100_000;
/// The longest sleep `slow` and `bg_slow` take: the workloads use 2 s.
pub const MAX_SLEEP_MS: u64 = 10_000;

#[cfg(feature = "ssr")]
pub mod handlers {
    //! Server side: each handler mirrors its `benchapp.py` namesake.

    use std::time::Duration;

    use stateside::{App, Cx, Task};

    use super::*;

    async fn increment(mut bench: Cx<Bench>, (): ()) -> anyhow::Result<()> {
        bench.count += 1;
        Ok(())
    }

    async fn increment_tagged(mut bench: Cx<Bench>, seq: i64) -> anyhow::Result<()> {
        bench.count += 1;
        bench.last_seq = seq;
        Ok(())
    }

    async fn slow(mut bench: Cx<Bench>, ms: u64) -> anyhow::Result<()> {
        tokio::time::sleep(Duration::from_millis(ms.min(MAX_SLEEP_MS))).await;
        bench.count += 1;
        Ok(())
    }

    async fn bg_increment(mut task: Task<Bench>, n: u32) -> anyhow::Result<()> {
        for _ in 0..n.min(MAX_INCREMENTS) {
            task.lock().await.count += 1;
        }
        Ok(())
    }

    async fn bg_slow(mut task: Task<Bench>, ms: u64) -> anyhow::Result<()> {
        tokio::time::sleep(Duration::from_millis(ms.min(MAX_SLEEP_MS))).await;
        task.lock().await.count += 1;
        Ok(())
    }

    async fn bg_mark(mut task: Task<Bench>, marker: String) -> anyhow::Result<()> {
        task.lock().await.items.push(marker);
        // Still running a moment later, for a fault to find it there.
        tokio::time::sleep(Duration::from_millis(50)).await;
        task.lock().await.count += 1;
        Ok(())
    }

    async fn append_item(mut bench: Cx<Bench>, item: String) -> anyhow::Result<()> {
        bench.items.push(item);
        Ok(())
    }

    async fn reset_count(mut bench: Cx<Bench>, (): ()) -> anyhow::Result<()> {
        bench.count = 0;
        bench.items.clear();
        Ok(())
    }

    pub fn register(app: App) -> App {
        app.on(INCREMENT, increment)
            .on(INCREMENT_TAGGED, increment_tagged)
            .on(SLOW, slow)
            .background(BG_INCREMENT, bg_increment)
            .background(BG_SLOW, bg_slow)
            .background(BG_MARK, bg_mark)
            .on(APPEND_ITEM, append_item)
            .on(RESET_COUNT, reset_count)
    }
}
