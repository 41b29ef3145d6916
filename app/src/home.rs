//! `/`: the first slice. A foreground "+1", a slow foreground "+1" that
//! shows how one session's events queue behind each other, and a background
//! count that runs beside them.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};
use stateside_leptos::{use_field, use_state, use_stateside};
use stateside_wire::{HandlerId, State};

use crate::demos::DemoGuide;

/// How far the background count goes.
pub const BACKGROUND_TARGET: u32 = 10;

#[derive(Clone, Default, Debug, PartialEq, Serialize, Deserialize)]
pub struct Home {
    pub count: i64,
    /// A slow event is running (flushed before it sleeps).
    pub slow_running: bool,
    pub background: u32,
    pub background_running: bool,
    /// The most recent foreground events, in the order they were applied.
    pub applied: Vec<String>,
}

impl State for Home {
    const NAME: &'static str = "home";
}

pub const INCREMENT: HandlerId<()> = HandlerId::new("home/increment");
pub const SLOW_INCREMENT: HandlerId<()> = HandlerId::new("home/slow_increment");
pub const COUNT_IN_BACKGROUND: HandlerId<()> = HandlerId::new("home/count_in_background");

#[cfg(feature = "ssr")]
pub mod handlers {
    //! Server side: what each button does.

    use std::time::Duration;

    use stateside::{App, Cx, Task};

    use super::*;

    /// How many applied events the page lists.
    const APPLIED_SHOWN: usize = 8;

    impl Home {
        fn record(&mut self, what: &str) {
            self.applied.push(what.to_owned());
            let excess = self.applied.len().saturating_sub(APPLIED_SHOWN);
            self.applied.drain(..excess);
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
