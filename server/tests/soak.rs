//! Soak: many tabs for a long time, each sending an event a second and
//! starting a short background task every ten seconds, against one server
//! process. Every count must be exact, no request may fail, and the
//! server's memory must level off after warm-up.
//!
//! Ignored by default (it runs for as long as it is told):
//! `SOAK_SECONDS=1800 SOAK_SESSIONS=1000 cargo test --release -p server --test soak -- --ignored --nocapture`

mod support;

use std::{sync::Arc, time::Duration};

use app::bench::{BG_INCREMENT, Bench, INCREMENT};
use stateside_wire::Receipt;
use support::{Instance, Tab};
use tokio::time::{Instant, MissedTickBehavior, interval_at};

fn setting(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(default)
}

/// Each background start adds this many locked increments.
const TASK_INCREMENTS: u32 = 5;

#[tokio::test(flavor = "multi_thread", worker_threads = 1)]
#[ignore = "long-running; see the module docs"]
async fn soak() {
    let seconds = setting("SOAK_SECONDS", 60);
    let sessions = setting("SOAK_SESSIONS", 1000) as usize;
    // One test process stands for every tab: lift the limits per address.
    let server = Arc::new(
        Instance::start(&[
            "--queue-limit",
            "4096",
            "--open-burst",
            "1000000",
            "--max-streams-per-ip",
            "1000000",
        ])
        .await,
    );
    let address = server.address.clone();
    let start = Instant::now() + Duration::from_secs(2);
    let tabs = (0..sessions).map(|i| {
        let address = address.clone();
        tokio::spawn(async move {
            let mut tab = Tab::open(&address).await;
            tab.connect(&address, None).await;
            let phase = Duration::from_secs(1).mul_f64(i as f64 / sessions as f64);
            let mut clock = interval_at(start + phase, Duration::from_secs(1));
            clock.set_missed_tick_behavior(MissedTickBehavior::Delay);
            let (mut expected, mut errors) = (0i64, 0u64);
            for tick in 0..seconds {
                clock.tick().await;
                let event = if tick % 10 == 9 {
                    expected += i64::from(TASK_INCREMENTS);
                    tab.event(BG_INCREMENT, TASK_INCREMENTS)
                } else {
                    expected += 1;
                    tab.event(INCREMENT, ())
                };
                match tab.try_send(&address, &[event]).await {
                    Ok(receipts) if receipts == [Receipt::Accepted] => {}
                    _ => errors += 1,
                }
                let acked = tab.next_seq - 1;
                if tab
                    .try_until(Duration::from_secs(10), |tab| {
                        tab.document().acked() >= acked
                    })
                    .await
                    .is_err()
                {
                    errors += 1;
                }
            }
            let target = expected;
            let settled = tab
                .try_until(Duration::from_secs(30), |tab| {
                    tab.document().state::<Bench>().unwrap().count == target
                })
                .await;
            (
                expected,
                tab.document().state::<Bench>().unwrap().count,
                errors + u64::from(settled.is_err()),
            )
        })
    });
    let tabs: Vec<_> = tabs.collect();

    let sampler = {
        let server = Arc::clone(&server);
        tokio::spawn(async move {
            let mut samples = Vec::new();
            let every = Duration::from_secs((seconds / 12).max(5));
            let mut clock = interval_at(start, every);
            loop {
                clock.tick().await;
                let elapsed = start.elapsed().as_secs();
                samples.push((elapsed, server.rss_mib()));
                println!("t={elapsed:>5} s  server RSS {:.1} MiB", server.rss_mib());
                if elapsed >= seconds {
                    return samples;
                }
            }
        })
    };

    let (mut exact, mut errors, mut events) = (0usize, 0u64, 0i64);
    for tab in tabs {
        let (expected, count, tab_errors) = tab.await.unwrap();
        exact += usize::from(count == expected);
        errors += tab_errors;
        events += expected;
    }
    let samples = sampler.await.unwrap();
    let warm = samples[samples.len() / 4].1;
    let end = samples.last().unwrap().1;
    println!(
        "soak: {sessions} sessions x {seconds} s: {events} increments, {exact}/{sessions} exact, \
         {errors} errors; RSS after warm-up {warm:.1} MiB, at the end {end:.1} MiB"
    );
    assert_eq!(errors, 0);
    assert_eq!(exact, sessions);
    assert!(
        end <= warm * 1.25 + 8.0,
        "RSS grew after warm-up: {samples:?}"
    );
}
