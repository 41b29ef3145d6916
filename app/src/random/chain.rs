//! `/random/chain`: each step is a foreground handler that sleeps through
//! the delay and then queues the next step, so the session's queue is held
//! for the whole delay and other clicks wait behind it.

use leptos::prelude::*;
use stateside_leptos::use_field;
use stateside_wire::{HandlerId, State};

use super::{Runner, page::RandomPage};

/// This page's run.
#[derive(Clone, Default, Debug, PartialEq, State)]
#[state(name = "random_chain")]
pub struct ChainRun {
    pub runner: Runner,
}

pub const SET_RUNNING: HandlerId<bool> = HandlerId::new("random/chain/set_running");
pub const SINGLE_STEP: HandlerId<()> = HandlerId::new("random/chain/single_step");

#[cfg(feature = "ssr")]
pub mod handlers {
    //! Server side: the buttons, and the step that chains itself.

    use stateside::{App, Cx};

    use super::*;
    use crate::random::RandomShared;

    const STEP: HandlerId<()> = HandlerId::new("random/chain/step");

    async fn set_running(mut run: Cx<ChainRun>, on: bool) -> anyhow::Result<()> {
        if run.runner.switch(on) {
            run.emit(STEP, &())?;
        }
        Ok(())
    }

    async fn single_step(mut run: Cx<ChainRun>, (): ()) -> anyhow::Result<()> {
        if run.runner.single_step() {
            run.emit(STEP, &())?;
        }
        Ok(())
    }

    /// One value per event, sleeping with the session's queue held.
    async fn step(mut run: Cx<ChainRun>, (): ()) -> anyhow::Result<()> {
        run.runner.loading = true;
        // Shows the spinner now, before the sleep, not with the value.
        run.flush();
        let delay = run.state::<RandomShared>().delay();
        tokio::time::sleep(delay).await;
        run.state_mut::<RandomShared>().roll();
        if run.runner.step_done() {
            run.emit(STEP, &())?;
        }
        Ok(())
    }

    /// Steps still queued when the server stopped are gone: a restored
    /// session starts the chain again if its switch is on.
    async fn resume(mut run: Cx<ChainRun>) -> anyhow::Result<()> {
        if run.runner.resumed() {
            run.emit(STEP, &())?;
        }
        Ok(())
    }

    pub fn register(app: App) -> App {
        app.on(SET_RUNNING, set_running)
            .on(SINGLE_STEP, single_step)
            .internal(STEP, step)
            .on_restore(resume)
    }
}

#[component]
pub fn RandomChainPage() -> impl IntoView {
    view! {
        <RandomPage
            title="Chained"
            how="each step sleeps inside a foreground handler, so your other clicks wait for it."
            other=("/random/background", "background")
            run=use_field(|run: &ChainRun| run.runner.clone())
            set_running=SET_RUNNING
            single_step=SINGLE_STEP
        />
    }
}
