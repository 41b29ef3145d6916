//! `/random/background`: a background task draws the values in a loop,
//! sleeping without the session's lock, so other clicks apply at once.

use leptos::prelude::*;
use stateside_leptos::use_field;
use stateside_wire::{HandlerId, State};

use super::{Runner, page::RandomPage};

/// This page's run.
#[derive(Clone, Default, Debug, PartialEq, State)]
#[state(name = "random_background")]
pub struct BackgroundRun {
    pub runner: Runner,
}

pub const SET_RUNNING: HandlerId<bool> = HandlerId::new("random/background/set_running");
pub const SINGLE_STEP: HandlerId<()> = HandlerId::new("random/background/single_step");

#[cfg(feature = "ssr")]
pub mod handlers {
    //! Server side: the buttons, and the task that loops.

    use stateside::{App, Cx, Task};

    use super::*;
    use crate::random::RandomShared;

    const RUN: HandlerId<()> = HandlerId::new("random/background/run");

    async fn set_running(mut run: Cx<BackgroundRun>, on: bool) -> anyhow::Result<()> {
        if run.runner.switch(on) {
            run.start(RUN, &())?;
        }
        Ok(())
    }

    async fn single_step(mut run: Cx<BackgroundRun>, (): ()) -> anyhow::Result<()> {
        if run.runner.single_step() {
            run.start(RUN, &())?;
        }
        Ok(())
    }

    /// Values in a loop, sleeping without the lock.
    async fn run(mut task: Task<BackgroundRun>, (): ()) -> anyhow::Result<()> {
        loop {
            let delay = {
                let mut run = task.lock().await;
                run.runner.loading = true;
                run.state::<RandomShared>().delay()
            };
            tokio::time::sleep(delay).await;
            let mut run = task.lock().await;
            run.state_mut::<RandomShared>().roll();
            if !run.runner.step_done() {
                return Ok(());
            }
        }
    }

    pub fn register(app: App) -> App {
        app.on(SET_RUNNING, set_running)
            .on(SINGLE_STEP, single_step)
            // Restartable, and so superseding: even a start that slipped
            // past the run's claim could not leave two loops in one
            // session, and a server restart picks the run up again.
            .background_restartable(RUN, run)
    }
}

#[component]
pub fn RandomBackgroundPage() -> impl IntoView {
    view! {
        <RandomPage
            title="Background"
            how="a background task sleeps without the lock, so your other clicks apply at once."
            other=("/random/chain", "chained")
            run=use_field(|run: &BackgroundRun| run.runner.clone())
            set_running=SET_RUNNING
            single_step=SINGLE_STEP
        />
    }
}
