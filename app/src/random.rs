//! `/random/chain` and `/random/background`: Reflex's random-number-range.
//! Both pages draw random numbers in a range, after a delay, into one shared
//! parent state (range, delay, values, total), so their results add up.
//!
//! - Chained: each step is a foreground handler that sleeps through the
//!   delay, so the session's queue is held and other clicks wait.
//! - Background: a task sleeps without the lock, so other clicks apply at
//!   once. At most one such task runs per session.
//!
//! The "applied, in order" list shows the difference: a Clear clicked while
//! a value is loading lands after the value when chained, before it in the
//! background.

use leptos::prelude::*;
use leptos_router::components::A;
use serde::{Deserialize, Serialize};
use stateside_leptos::{use_state, use_stateside};
use stateside_wire::{HandlerId, State};

/// Values listed (Reflex's "last 10 values").
pub const VALUES_SHOWN: usize = 10;
pub const RANGE_LIMIT: i32 = 100;

/// What both pages share (Reflex's parent state).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RandomShared {
    pub min: i32,
    pub max: i32,
    pub delay_s: u32,
    pub values: Vec<i32>,
    pub total: i64,
    pub log: Vec<String>,
}

impl Default for RandomShared {
    fn default() -> Self {
        Self {
            min: -10,
            max: 10,
            delay_s: 1,
            values: Vec::new(),
            total: 0,
            log: Vec::new(),
        }
    }
}

impl State for RandomShared {
    const NAME: &'static str = "random";
}

/// One page's own state (Reflex's substates).
#[derive(Clone, Default, Debug, PartialEq, Serialize, Deserialize)]
pub struct Runner {
    /// The Run switch.
    pub running: bool,
    /// A value is on its way.
    pub loading: bool,
    /// A step is queued or a task is alive, so another start must not
    /// launch a second run.
    busy: bool,
}

#[derive(Clone, Default, Debug, PartialEq, Serialize, Deserialize)]
pub struct ChainRun(pub Runner);

#[derive(Clone, Default, Debug, PartialEq, Serialize, Deserialize)]
pub struct BackgroundRun(pub Runner);

impl State for ChainRun {
    const NAME: &'static str = "random_chain";
}

impl State for BackgroundRun {
    const NAME: &'static str = "random_background";
}

/// What tells the two pages apart.
pub trait Mode: State + PartialEq + Send + Sync {
    const TITLE: &'static str;
    const HOW: &'static str;
    const OTHER_PATH: &'static str;
    const OTHER_TITLE: &'static str;
    const SET_RUNNING: HandlerId<bool>;
    const SINGLE_STEP: HandlerId<()>;
    fn runner(&self) -> &Runner;
}

impl Mode for ChainRun {
    const TITLE: &'static str = "Chained";
    const HOW: &'static str = "each step sleeps inside a foreground handler, \
        so your other clicks wait for it.";
    const OTHER_PATH: &'static str = "/random/background";
    const OTHER_TITLE: &'static str = "background";
    const SET_RUNNING: HandlerId<bool> = HandlerId::new("random/chain/set_running");
    const SINGLE_STEP: HandlerId<()> = HandlerId::new("random/chain/single_step");
    fn runner(&self) -> &Runner {
        &self.0
    }
}

impl Mode for BackgroundRun {
    const TITLE: &'static str = "Background";
    const HOW: &'static str = "a background task sleeps without the lock, \
        so your other clicks apply at once.";
    const OTHER_PATH: &'static str = "/random/chain";
    const OTHER_TITLE: &'static str = "chained";
    const SET_RUNNING: HandlerId<bool> = HandlerId::new("random/background/set_running");
    const SINGLE_STEP: HandlerId<()> = HandlerId::new("random/background/single_step");
    fn runner(&self) -> &Runner {
        &self.0
    }
}

pub const SET_RANGE: HandlerId<(i32, i32)> = HandlerId::new("random/set_range");
pub const BALANCE: HandlerId<()> = HandlerId::new("random/balance");
pub const CLEAR: HandlerId<()> = HandlerId::new("random/clear");
pub const SET_DELAY: HandlerId<u32> = HandlerId::new("random/set_delay");

#[cfg(feature = "ssr")]
pub mod handlers {
    //! Server side: the shared edits, then the two ways to run.

    use std::time::Duration;

    use stateside::{App, Cx, Task};

    use super::*;

    /// Events listed under "applied, in order".
    const LOG_SHOWN: usize = 8;
    const CHAIN_STEP: HandlerId<()> = HandlerId::new("random/chain/step");
    const BACKGROUND_RUN: HandlerId<()> = HandlerId::new("random/background/run");

    impl RandomShared {
        fn roll(&mut self) {
            let value = rand::random_range(self.min..=self.max);
            self.total += i64::from(value);
            self.values.push(value);
            let excess = self.values.len().saturating_sub(VALUES_SHOWN);
            self.values.drain(..excess);
            self.note(format!("value {value:+}"));
        }

        fn note(&mut self, what: String) {
            self.log.push(what);
            let excess = self.log.len().saturating_sub(LOG_SHOWN);
            self.log.drain(..excess);
        }

        fn delay(&self) -> Duration {
            Duration::from_secs(self.delay_s.into())
        }
    }

    async fn set_range(mut shared: Cx<RandomShared>, (a, b): (i32, i32)) -> anyhow::Result<()> {
        let [a, b] = [a, b].map(|end| end.clamp(-RANGE_LIMIT, RANGE_LIMIT));
        (shared.min, shared.max) = (a.min(b), a.max(b));
        let range = format!("range {}..{}", shared.min, shared.max);
        shared.note(range);
        Ok(())
    }

    async fn balance(mut shared: Cx<RandomShared>, (): ()) -> anyhow::Result<()> {
        let reach = shared.min.abs().max(shared.max.abs());
        (shared.min, shared.max) = (-reach, reach);
        shared.note("balanced".to_owned());
        Ok(())
    }

    async fn clear(mut shared: Cx<RandomShared>, (): ()) -> anyhow::Result<()> {
        shared.total = 0;
        shared.values.clear();
        shared.note("cleared".to_owned());
        Ok(())
    }

    async fn set_delay(mut shared: Cx<RandomShared>, seconds: u32) -> anyhow::Result<()> {
        shared.delay_s = seconds.clamp(1, 4);
        Ok(())
    }

    /// How a page launches one run, each in its own style.
    trait Launch: Mode + Sized {
        fn runner_mut(&mut self) -> &mut Runner;
        fn launch(cx: &mut Cx<Self>) -> anyhow::Result<()>;
    }

    impl Launch for ChainRun {
        fn runner_mut(&mut self) -> &mut Runner {
            &mut self.0
        }
        fn launch(cx: &mut Cx<Self>) -> anyhow::Result<()> {
            Ok(cx.emit(CHAIN_STEP, &())?)
        }
    }

    impl Launch for BackgroundRun {
        fn runner_mut(&mut self) -> &mut Runner {
            &mut self.0
        }
        fn launch(cx: &mut Cx<Self>) -> anyhow::Result<()> {
            cx.start(BACKGROUND_RUN, &())?;
            Ok(())
        }
    }

    /// Launches a run unless one is already under way.
    fn ensure_run<M: Launch>(cx: &mut Cx<M>) -> anyhow::Result<()> {
        if std::mem::replace(&mut cx.runner_mut().busy, true) {
            return Ok(());
        }
        M::launch(cx)
    }

    async fn set_running<M: Launch>(mut cx: Cx<M>, on: bool) -> anyhow::Result<()> {
        cx.runner_mut().running = on;
        if on { ensure_run(&mut cx) } else { Ok(()) }
    }

    /// Stops the loop after one more value (Reflex's single step).
    async fn single_step<M: Launch>(mut cx: Cx<M>, (): ()) -> anyhow::Result<()> {
        cx.runner_mut().running = false;
        ensure_run(&mut cx)
    }

    /// One value per event, sleeping with the session's queue held.
    async fn chain_step(mut run: Cx<ChainRun>, (): ()) -> anyhow::Result<()> {
        run.0.loading = true;
        run.flush();
        let delay = run.state::<RandomShared>().delay();
        tokio::time::sleep(delay).await;
        run.state_mut::<RandomShared>().roll();
        run.0.loading = false;
        if run.0.running {
            run.emit(CHAIN_STEP, &())?;
        } else {
            run.0.busy = false;
        }
        Ok(())
    }

    /// Values in a loop, sleeping without the lock.
    async fn background_run(mut task: Task<BackgroundRun>, (): ()) -> anyhow::Result<()> {
        loop {
            let delay = {
                let mut run = task.lock().await;
                run.0.loading = true;
                run.state::<RandomShared>().delay()
            };
            tokio::time::sleep(delay).await;
            let mut run = task.lock().await;
            run.state_mut::<RandomShared>().roll();
            run.0.loading = false;
            if !run.0.running {
                run.0.busy = false;
                return Ok(());
            }
        }
    }

    pub fn register(app: App) -> App {
        app.on(SET_RANGE, set_range)
            .on(BALANCE, balance)
            .on(CLEAR, clear)
            .on(SET_DELAY, set_delay)
            .on(ChainRun::SET_RUNNING, set_running::<ChainRun>)
            .on(ChainRun::SINGLE_STEP, single_step::<ChainRun>)
            .on(CHAIN_STEP, chain_step)
            .on(BackgroundRun::SET_RUNNING, set_running::<BackgroundRun>)
            .on(BackgroundRun::SINGLE_STEP, single_step::<BackgroundRun>)
            // Superseding, so that even a start that slipped past `busy`
            // could not leave two loops in one session.
            .background_superseding(BACKGROUND_RUN, background_run)
    }
}

#[component]
pub fn RandomChainPage() -> impl IntoView {
    random_page::<ChainRun>()
}

#[component]
pub fn RandomBackgroundPage() -> impl IntoView {
    random_page::<BackgroundRun>()
}

/// Both pages: the same controls, driving the page's own style of run.
fn random_page<M: Mode>() -> impl IntoView {
    let stateside = use_stateside();
    let shared = use_state::<RandomShared>();
    let run = use_state::<M>();
    let min = move || shared.with(|shared| shared.min);
    let max = move || shared.with(|shared| shared.max);
    let values = move || {
        shared.with(|shared| {
            shared
                .values
                .iter()
                .map(i32::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        })
    };
    let slider = move |ev: leptos::ev::Event| event_target_value(&ev).parse::<i32>().ok();

    view! {
        <section class="card random" data-testid="random">
            <div class="random-head">
                <h1>"Random numbers in range"</h1>
                <A href=M::OTHER_PATH on:click=move |_| stateside.call(M::SET_RUNNING, false)>
                    {format!("Try the {} version →", M::OTHER_TITLE)}
                </A>
            </div>
            <p class="lead">
                <strong>{M::TITLE} " version: "</strong>
                {M::HOW}
            </p>
            <div class="random-range">
                <span>"Min: " <strong data-testid="min">{min}</strong></span>
                <button class="btn" data-testid="balance" on:click=move |_| stateside.call(BALANCE, ())>
                    "Balance"
                </button>
                <span>"Max: " <strong data-testid="max">{max}</strong></span>
            </div>
            <div class="random-sliders">
                <input
                    type="range"
                    aria-label="Minimum"
                    data-testid="min-slider"
                    min=-RANGE_LIMIT
                    max=RANGE_LIMIT
                    prop:value=min
                    on:change=move |ev| {
                        if let Some(low) = slider(ev) {
                            stateside.call(SET_RANGE, (low, max()));
                        }
                    }
                />
                <input
                    type="range"
                    aria-label="Maximum"
                    data-testid="max-slider"
                    min=-RANGE_LIMIT
                    max=RANGE_LIMIT
                    prop:value=max
                    on:change=move |ev| {
                        if let Some(high) = slider(ev) {
                            stateside.call(SET_RANGE, (min(), high));
                        }
                    }
                />
            </div>
            <p class="random-values">
                {format!("Last {VALUES_SHOWN} values: ")}
                <span data-testid="values">{values}</span>
                <Show when=move || run.with(|run| run.runner().loading)>
                    <span class="spinner" data-testid="loading" aria-label="loading"></span>
                </Show>
            </p>
            <div class="random-total">
                <span>"Total: " <strong data-testid="total">{move || shared.with(|shared| shared.total)}</strong></span>
                <button class="btn" data-testid="clear" on:click=move |_| stateside.call(CLEAR, ())>
                    "Clear"
                </button>
            </div>
            <div class="random-controls">
                <label class="switch">
                    <input
                        type="checkbox"
                        role="switch"
                        data-testid="run"
                        prop:checked=move || run.with(|run| run.runner().running)
                        on:change=move |ev| stateside.call(M::SET_RUNNING, event_target_checked(&ev))
                    />
                    <span class="switch-track"></span>
                    "Run"
                </label>
                <label>
                    "Delay (sec) "
                    <select
                        data-testid="delay"
                        prop:value=move || shared.with(|shared| shared.delay_s.to_string())
                        on:change=move |ev| {
                            if let Ok(seconds) = event_target_value(&ev).parse() {
                                stateside.call(SET_DELAY, seconds);
                            }
                        }
                    >
                        {(1..=4).map(|s| view! { <option value=s>{s}</option> }).collect_view()}
                    </select>
                </label>
                <button class="btn btn-primary" data-testid="step" on:click=move |_| stateside.call(M::SINGLE_STEP, ())>
                    "Single step"
                </button>
            </div>
        </section>
        <section class="card">
            <h2>"Applied, in order"</h2>
            <ol class="applied" data-testid="log">
                {move || shared.with(|shared| shared.log.iter().map(|what| view! { <li>{what.clone()}</li> }).collect_view())}
            </ol>
        </section>
    }
}
