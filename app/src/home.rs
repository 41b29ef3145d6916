//! `/`: the first slice. A foreground "+1", a slow foreground "+1" that
//! shows how one session's events queue behind each other, and a background
//! count that runs beside them.
//!
//! It also shows the two kinds of field a state can have besides plain
//! ones: an audit log of the session's events that the server keeps and
//! never sends (`#[backend]`), and the number of events, computed from that
//! log whenever it grows (`#[computed]`), which the page does show.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};
use stateside_leptos::{use_field, use_state, use_stateside};
use stateside_wire::{HandlerId, List, State};

use crate::demos::DemoGuide;

/// How far the background count goes.
pub const BACKGROUND_TARGET: u32 = 10;

/// Entries the audit log keeps: the oldest go first.
pub const AUDIT_KEPT: usize = 1_000;

#[derive(Clone, Default, Debug, PartialEq, State)]
#[state(name = "home")]
pub struct Home {
    pub count: i64,
    /// A slow event is running (flushed before it sleeps).
    pub slow_running: bool,
    pub background: u32,
    pub background_running: bool,
    /// The most recent foreground events, in the order they were applied.
    pub applied: List<String>,
    /// Every event of this page the session applied, oldest first (the
    /// last [`AUDIT_KEPT`]). Kept by every store, never sent to a browser:
    /// the page sees only the count below.
    #[backend]
    pub audit: List<AuditEntry>,
    /// How many events the session has applied, from the audit log.
    #[computed(count_events(audit))]
    pub events_applied: u64,
}

/// One event in the audit log.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AuditEntry {
    /// 1 for the session's first event; it goes on counting after the
    /// log starts dropping its oldest entries.
    pub seq: u64,
    /// What was applied: "+1", "slow +1", "background count".
    pub event: String,
    /// When, in milliseconds since the Unix epoch.
    pub at_unix_ms: u64,
}

/// The audit log's latest seq: the log is bounded, the count is not.
fn count_events(audit: &List<AuditEntry>) -> u64 {
    audit.last().map_or(0, |entry| entry.seq)
}

pub const INCREMENT: HandlerId<()> = HandlerId::new("home/increment");
pub const SLOW_INCREMENT: HandlerId<()> = HandlerId::new("home/slow_increment");
pub const COUNT_IN_BACKGROUND: HandlerId<()> = HandlerId::new("home/count_in_background");

#[cfg(feature = "ssr")]
pub mod handlers {
    //! Server side: what each button does.

    use std::time::{Duration, SystemTime, UNIX_EPOCH};

    use stateside::{App, Cx, Task};

    use super::*;

    /// How many applied events the page lists.
    const APPLIED_SHOWN: usize = 8;

    impl Home {
        /// A foreground event, listed on the page and audited.
        fn record(&mut self, what: &str) {
            self.applied.push(what.to_owned());
            while self.applied.len() > APPLIED_SHOWN {
                self.applied.pop_front();
            }
            self.audit(what);
        }

        /// Appends to the audit log, which the page never sees.
        fn audit(&mut self, event: &str) {
            let entry = AuditEntry {
                seq: count_events(&self.audit) + 1,
                event: event.to_owned(),
                at_unix_ms: SystemTime::now()
                    .duration_since(UNIX_EPOCH)
                    .map_or(0, |since| since.as_millis() as u64),
            };
            self.audit.push(entry);
            while self.audit.len() > AUDIT_KEPT {
                self.audit.pop_front();
            }
        }
    }

    async fn increment(mut home: Cx<Home>, (): ()) -> anyhow::Result<()> {
        home.count += 1;
        home.record("+1");
        Ok(())
    }

    /// Holds the session's queue for 2 s: events sent meanwhile wait.
    async fn slow_increment(mut home: Cx<Home>, (): ()) -> anyhow::Result<()> {
        home.slow_running = true;
        home.flush();
        tokio::time::sleep(Duration::from_secs(2)).await;
        home.count += 1;
        home.slow_running = false;
        home.record("slow +1");
        Ok(())
    }

    /// Counts to ten beside the queue, locking only for each step.
    async fn count_in_background(mut task: Task<Home>, (): ()) -> anyhow::Result<()> {
        {
            let mut home = task.lock().await;
            home.audit("background count");
            if home.background_running {
                return Ok(()); // one count at a time
            }
            home.background_running = true;
            home.background = 0;
        }
        for _ in 0..BACKGROUND_TARGET {
            tokio::time::sleep(Duration::from_millis(300)).await;
            task.lock().await.background += 1;
        }
        task.lock().await.background_running = false;
        Ok(())
    }

    pub fn register(app: App) -> App {
        app.on(INCREMENT, increment)
            .on(SLOW_INCREMENT, slow_increment)
            .background(COUNT_IN_BACKGROUND, count_in_background)
    }
}

#[component]
pub fn HomePage() -> impl IntoView {
    let stateside = use_stateside();
    let home = use_state::<Home>();
    let count = use_field(|home: &Home| home.count);
    let background = use_field(|home: &Home| home.background);
    let events = use_field(|home: &Home| home.events_applied);
    let events_applied = move || match events.get() {
        1 => "1 event applied in this session.".to_owned(),
        n => format!("{n} events applied in this session."),
    };
    let progress = move || format!("{}%", background.get() * 100 / BACKGROUND_TARGET);

    view! {
        <DemoGuide />
        <section class="card">
            <h1>"Counter"</h1>
            <p class="lead">"State lives on the server. Try the slow button, then +1 at once."</p>
            <p class="count live" data-testid="count">{count}</p>
            <div class="row">
                <button class="btn btn-primary" on:click=move |_| stateside.call(INCREMENT, ())>
                    "+1"
                </button>
                <button class="btn" on:click=move |_| stateside.call(SLOW_INCREMENT, ())>
                    {move || if home.with(|home| home.slow_running) { "slow +1 (running…)" } else { "slow +1" }}
                </button>
            </div>
        </section>
        <section class="card">
            <h2>"Background"</h2>
            <button
                class="btn"
                data-testid="background-start"
                disabled=move || home.with(|home| home.background_running)
                on:click=move |_| stateside.call(COUNT_IN_BACKGROUND, ())
            >
                "count to 10 in the background"
            </button>
            <div
                class="progress"
                role="progressbar"
                aria-valuemin="0"
                aria-valuemax=BACKGROUND_TARGET
                aria-valuenow=background
            >
                <div class="progress-bar" style:width=progress></div>
            </div>
            <p class="live" data-testid="background">{background} "/" {BACKGROUND_TARGET}</p>
        </section>
        <section class="card">
            <h2>"Applied, in order"</h2>
            <p>
                <span class="live">{events_applied}</span>
                " The server counts them from an audit log it keeps and never sends to this page."
            </p>
            <ol class="applied live" data-testid="applied">
                {move || {
                    home.with(|home| {
                        home.applied.iter().map(|what| view! { <li>{what.clone()}</li> }).collect_view()
                    })
                }}
            </ol>
        </section>
    }
}
