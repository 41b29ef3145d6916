//! The layout both random pages share. A page passes in what tells it
//! apart (its title, how its steps wait, the way to the other page) and its
//! own run; everything else edits the shared parent state.

use leptos::prelude::*;
use leptos_router::components::A;
use stateside_leptos::{use_state, use_stateside};
use stateside_wire::HandlerId;

use super::{
    BALANCE, CLEAR, RANGE_LIMIT, RandomShared, Runner, SET_DELAY, SET_RANGE, VALUES_SHOWN,
};

/// One random page: the range, the values and their total, the run
/// controls, and the events in the order they were applied.
#[component]
pub fn RandomPage(
    /// "Chained" or "Background".
    title: &'static str,
    /// How this page's steps wait, after "{title} version: ".
    how: &'static str,
    /// The other page: its path, and its name in "Try the … version".
    other: (&'static str, &'static str),
    /// This page's run.
    run: Memo<Runner>,
    /// This page's Run switch.
    set_running: HandlerId<bool>,
    /// This page's Single step button.
    single_step: HandlerId<()>,
) -> impl IntoView {
    let stateside = use_stateside();
    let shared = use_state::<RandomShared>();
    let (other_path, other_title) = other;

    view! {
        <section class="card random" data-testid="random">
            <div class="random-head">
                <h1>"Random numbers in range"</h1>
                // Leaving stops this page's run, whose switch the other page does not show.
                <A href=other_path on:click=move |_| stateside.call(set_running, false)>
                    {format!("Try the {other_title} version →")}
                </A>
            </div>
            <p class="lead">
                <strong>{title} " version: "</strong>
                {how}
            </p>
            <RangePicker shared />
            <ValuesAndTotal shared loading=Signal::derive(move || run.with(|run| run.loading)) />
            <RunControls shared run set_running single_step />
        </section>
        <AppliedLog shared />
    }
}

/// The range, shown as numbers with Balance between them, and its sliders.
#[component]
fn RangePicker(shared: Memo<RandomShared>) -> impl IntoView {
    let stateside = use_stateside();
    let min = move || shared.with(|shared| shared.min);
    let max = move || shared.with(|shared| shared.max);
    let slider = move |ev: leptos::ev::Event| event_target_value(&ev).parse::<i32>().ok();

    view! {
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
    }
}

/// The last values with a spinner while the next is drawn, and their total
/// with Clear.
#[component]
fn ValuesAndTotal(shared: Memo<RandomShared>, loading: Signal<bool>) -> impl IntoView {
    let stateside = use_stateside();
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

    view! {
        <p class="random-values">
            {format!("Last {VALUES_SHOWN} values: ")}
            <span data-testid="values">{values}</span>
            <Show when=move || loading.get()>
                <span class="spinner" data-testid="loading" aria-label="loading"></span>
            </Show>
        </p>
        <div class="random-total">
            <span>"Total: " <strong data-testid="total">{move || shared.with(|shared| shared.total)}</strong></span>
            <button class="btn" data-testid="clear" on:click=move |_| stateside.call(CLEAR, ())>
                "Clear"
            </button>
        </div>
    }
}

/// The page's Run switch and Single step, around the shared delay.
#[component]
fn RunControls(
    shared: Memo<RandomShared>,
    run: Memo<Runner>,
    set_running: HandlerId<bool>,
    single_step: HandlerId<()>,
) -> impl IntoView {
    let stateside = use_stateside();

    view! {
        <div class="random-controls">
            <label class="switch">
                <input
                    type="checkbox"
                    role="switch"
                    data-testid="run"
                    prop:checked=move || run.with(|run| run.running)
                    on:change=move |ev| stateside.call(set_running, event_target_checked(&ev))
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
            <button class="btn btn-primary" data-testid="step" on:click=move |_| stateside.call(single_step, ())>
                "Single step"
            </button>
        </div>
    }
}

/// The shared edits in the order the session applied them: where the two
/// pages' difference shows.
#[component]
fn AppliedLog(shared: Memo<RandomShared>) -> impl IntoView {
    view! {
        <section class="card">
            <h2>"Applied, in order"</h2>
            <ol class="applied" data-testid="log">
                {move || shared.with(|shared| shared.log.iter().map(|what| view! { <li>{what.clone()}</li> }).collect_view())}
            </ol>
        </section>
    }
}
