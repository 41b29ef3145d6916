//! `/`: the one page. Its state lives on the server, in the tab's session:
//! a count that a foreground handler raises, and ticks that a background
//! task adds until Stop cancels it. Start here: a page is a state, the
//! handlers that change it, and the view that shows it, side by side.

use leptos::prelude::*;
use stateside_leptos::{use_field, use_stateside};
use stateside_wire::{HandlerId, State};

#[derive(Clone, Default, Debug, PartialEq, State)]
#[state(name = "counter")]
pub struct Counter {
    pub count: i64,
    pub ticks: u64,
    /// The running ticker's task id, for Stop to cancel it. The page has no
    /// use for it, so it stays on the server (every store keeps it).
    #[backend]
    pub ticker: Option<u64>,
    /// Recomputed whenever `ticker` changes, and sent like any field.
    #[computed(is_running(ticker))]
    pub ticking: bool,
}

fn is_running(ticker: &Option<u64>) -> bool {
    ticker.is_some()
}

// One name, shared by server and client: a typo is a compile error.
pub const INCREMENT: HandlerId<()> = HandlerId::new("counter/increment");
pub const TICK: HandlerId<()> = HandlerId::new("counter/tick");
pub const STOP: HandlerId<()> = HandlerId::new("counter/stop");

#[cfg(feature = "ssr")]
pub mod handlers {
    //! Server side: what each button does.

    use std::time::Duration;

    use stateside::{App, Cx, Task, TaskId};

    use super::*;

    /// Foreground: runs in the session's queue, one event at a time; `Cx`
    /// holds the session's lock and derefs to the state.
    async fn increment(mut counter: Cx<Counter>, (): ()) -> anyhow::Result<()> {
        counter.count += 1;
        Ok(())
    }

    /// Background: runs beside the queue, so +1 answers at once while it
    /// ticks, and changes the state only while it holds the lock.
    async fn tick(mut task: Task<Counter>, (): ()) -> anyhow::Result<()> {
        let id = task.id().0;
        task.lock().await.ticker = Some(id);
        loop {
            tokio::time::sleep(Duration::from_secs(1)).await; // no lock held
            task.lock().await.ticks += 1; // the guard drops: the patch is sent
        }
    }

    /// Cancels the ticker: it stops at its next await and sends nothing more.
    async fn stop(mut counter: Cx<Counter>, (): ()) -> anyhow::Result<()> {
        if let Some(id) = counter.ticker.take() {
            counter.cancel(TaskId(id));
        }
        Ok(())
    }

    /// The ticker is restartable: when the server restarts (each rebuild of
    /// `make run`), a running ticker starts again under its old id and goes
    /// on from the ticks the state holds. A second start replaces the first.
    pub fn register(app: App) -> App {
        app.on(INCREMENT, increment)
            .on(STOP, stop)
            .background_restartable(TICK, tick)
    }
}

#[component]
pub fn CounterPage() -> impl IntoView {
    let stateside = use_stateside();
    let count = use_field(|counter: &Counter| counter.count);
    let ticks = use_field(|counter: &Counter| counter.ticks);
    let ticking = use_field(|counter: &Counter| counter.ticking);

    view! {
        <h1>"{{project-name}}"</h1>
        <section class="card">
            <h2>"Count"</h2>
            <p class="count live" role="status" aria-label="count">{count}</p>
            <button class="primary" on:click=move |_| stateside.call(INCREMENT, ())>
                "+1"
            </button>
        </section>
        <section class="card">
            <h2>"Ticks"</h2>
            <p class="count live" role="status" aria-label="ticks">{ticks}</p>
            <div class="row">
                <button disabled=move || ticking.get() on:click=move |_| stateside.call(TICK, ())>
                    "Start ticking"
                </button>
                <button disabled=move || !ticking.get() on:click=move |_| stateside.call(STOP, ())>
                    "Stop"
                </button>
            </div>
        </section>
    }
}
