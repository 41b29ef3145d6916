//! The responsiveness probe: a foreground "+1" that pages put beside their
//! slow work. Each click is an ordinary queued event, so how soon the count
//! moves shows whether the session's queue is free or held.

use leptos::prelude::*;
use stateside_leptos::{use_state, use_stateside};
use stateside_wire::{HandlerId, State};

/// One count per session, shared by every page that shows the probe.
#[derive(Clone, Default, Debug, PartialEq, State)]
#[state(name = "clicks")]
pub struct Clicks {
    pub count: u32,
}

pub const CLICK: HandlerId<()> = HandlerId::new("clicks/click");

#[cfg(feature = "ssr")]
pub mod handlers {
    //! Server side: one increment.

    use stateside::{App, Cx};

    use super::*;

    async fn click(mut clicks: Cx<Clicks>, (): ()) -> anyhow::Result<()> {
        clicks.count += 1;
        Ok(())
    }

    pub fn register(app: App) -> App {
        app.on(CLICK, click)
    }
}

/// The "+1" button and its count.
#[component]
pub fn ClickCounter() -> impl IntoView {
    let stateside = use_stateside();
    let clicks = use_state::<Clicks>();
    view! {
        <div class="clicker">
            <button
                class="btn btn-primary"
                data-testid="click"
                on:click=move |_| stateside.call(CLICK, ())
            >
                "+1"
            </button>
            <span class="clicker-count" data-testid="clicks">
                {move || clicks.with(|clicks| clicks.count)}
            </span>
            <span class="muted">"clicks applied"</span>
        </div>
    }
}
