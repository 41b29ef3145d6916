//! `/dashboard`: the seed's "multi-view dashboard", where separate
//! background tasks drive separate panels at once, each at its own rate and
//! into its own state. Starting or stopping one panel cancels or starts
//! only that panel's task; a +1 counter shows the queue stays free.

use std::collections::BTreeSet;

use leptos::prelude::*;
use serde::{Deserialize, Serialize};
use stateside_leptos::{use_state, use_stateside};
use stateside_wire::{HandlerId, List, State};

use crate::clicker::ClickCounter;

/// Points the chart keeps.
pub const CHART_POINTS: usize = 48;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Panel {
    Chart,
    Log,
    Job,
    Engine,
}

/// Which panels have a task running: four at most, diffed as a whole.
#[derive(Clone, Default, Debug, PartialEq, State)]
#[state(name = "dashboard")]
pub struct Dashboard {
    pub running: BTreeSet<Panel>,
}

/// A simulated metric, as a random walk.
#[derive(Clone, Default, Debug, PartialEq, State)]
#[state(name = "dashboard_chart")]
pub struct Chart {
    /// The last [`CHART_POINTS`], oldest first: a tick adds one and drops
    /// one, two ops.
    pub points: List<f64>,
    pub ticks: u64,
}

#[derive(Clone, Default, Debug, PartialEq, Serialize, Deserialize)]
pub struct LogLine {
    pub seq: u64,
    pub level: String,
    pub text: String,
}

#[derive(Clone, Default, Debug, PartialEq, State)]
#[state(name = "dashboard_log")]
pub struct LogTail {
    /// The latest lines, oldest first.
    pub lines: List<LogLine>,
    pub next_seq: u64,
}

/// A job that runs to 100 % unless cancelled.
#[derive(Clone, Default, Debug, PartialEq, State)]
#[state(name = "dashboard_job")]
pub struct Job {
    pub percent: u32,
    /// It was running when the server stopped, and did not start again.
    pub interrupted: bool,
}

/// The engine as this session's probe sees it.
#[derive(Clone, Default, Debug, PartialEq, State)]
#[state(name = "dashboard_engine")]
pub struct EngineView {
    /// Live sessions in the server process.
    pub sessions: usize,
    /// This session's running background tasks, by handler. A `Vec`, not a
    /// `List`: each sample replaces it whole, and a diff of the two sends
    /// nothing when the tasks did not change (a new `List` is sent whole).
    pub tasks: Vec<String>,
    /// How long the probe task waited for the session's lock.
    pub lock_wait_us: u64,
    /// How long the probe held it last time.
    pub lock_hold_us: u64,
    /// How long the probe's foreground event waited in the queue.
    pub queue_wait_us: u64,
    pub samples: u64,
}

pub const START: HandlerId<Panel> = HandlerId::new("dashboard/start");
pub const STOP: HandlerId<Panel> = HandlerId::new("dashboard/stop");
pub const START_ALL: HandlerId<()> = HandlerId::new("dashboard/start_all");
pub const STOP_ALL: HandlerId<()> = HandlerId::new("dashboard/stop_all");

#[cfg(feature = "ssr")]
pub mod handlers;

#[component]
pub fn DashboardPage() -> impl IntoView {
    let stateside = use_stateside();
    view! {
        <section class="card">
            <h1>"Dashboard"</h1>
            <p class="lead">
                "Four panels, four background tasks, each at its own pace. "
                "Stop one and the others carry on; +1 stays instant throughout."
            </p>
            <div class="dash-toolbar">
                <button class="btn btn-primary" data-testid="start-all" on:click=move |_| stateside.call(START_ALL, ())>
                    "Start all"
                </button>
                <button class="btn" data-testid="stop-all" on:click=move |_| stateside.call(STOP_ALL, ())>
                    "Stop all"
                </button>
                <ClickCounter />
            </div>
        </section>
        <div class="dash-grid">
            <PanelFrame panel=Panel::Chart title="Requests per second">
                <ChartPanel />
            </PanelFrame>
            <PanelFrame panel=Panel::Log title="Log tail">
                <LogPanel />
            </PanelFrame>
            <PanelFrame panel=Panel::Job title="Export job">
                <JobPanel />
            </PanelFrame>
            <PanelFrame panel=Panel::Engine title="Engine">
                <EnginePanel />
            </PanelFrame>
        </div>
    }
}

/// A panel's card: its title, a live dot and its start/stop button.
#[component]
fn PanelFrame(panel: Panel, title: &'static str, children: Children) -> impl IntoView {
    let stateside = use_stateside();
    let dashboard = use_state::<Dashboard>();
    let running = move || dashboard.with(|dashboard| dashboard.running.contains(&panel));
    let stop = if panel == Panel::Job {
        "Cancel"
    } else {
        "Stop"
    };
    view! {
        <section
            class="card panel"
            data-testid=format!("panel-{panel:?}").to_lowercase()
            data-running=move || running().to_string()
        >
            <div class="panel-head">
                <h2>
                    <span class="live-dot" class:on=running></span>
                    {title}
                </h2>
                <button
                    class="btn"
                    data-testid="panel-toggle"
                    on:click=move |_| stateside.call(if running() { STOP } else { START }, panel)
                >
                    {move || if running() { stop } else { "Start" }}
                </button>
            </div>
            {children()}
        </section>
    }
}

#[component]
fn ChartPanel() -> impl IntoView {
    let chart = use_state::<Chart>();
    // Newest point at the right edge; values 0..100 fill the 40-high box.
    let step = 100.0 / (CHART_POINTS - 1) as f64;
    let first_x = move || (CHART_POINTS - chart.with(|chart| chart.points.len())) as f64 * step;
    let line = move || {
        let first_x = first_x();
        chart.with(|chart| {
            chart
                .points
                .iter()
                .enumerate()
                .map(|(i, value)| {
                    format!("{:.1},{:.1}", first_x + i as f64 * step, 40.0 - value * 0.4)
                })
                .collect::<Vec<_>>()
                .join(" ")
        })
    };
    // The same line closed along the bottom, for the shaded area.
    let area = move || format!("{:.1},40 {} 100,40", first_x(), line());
    let latest = move || {
        chart.with(|chart| {
            chart
                .points
                .last()
                .map_or("—".to_owned(), |v| format!("{v:.0}"))
        })
    };
    view! {
        <p class="panel-figure" data-testid="ticks" data-ticks=move || chart.with(|chart| chart.ticks)>
            {latest}
            <span class="muted">" req/s"</span>
        </p>
        <svg class="sparkline" viewBox="0 0 100 40" preserveAspectRatio="none" aria-label="requests per second">
            <polygon points=area />
            <polyline points=line />
        </svg>
    }
}

#[component]
fn LogPanel() -> impl IntoView {
    let log = use_state::<LogTail>();
    view! {
        <ol class="log-tail" data-testid="ticks" data-ticks=move || log.with(|log| log.next_seq)>
            <For
                each=move || log.with(|log| log.lines.iter().cloned().collect::<Vec<_>>())
                key=|line| line.seq
                children=|line| {
                    let class = format!("log-line log-{}", line.level.to_lowercase());
                    view! {
                        <li class=class>
                            <span class="log-level">{line.level}</span>
                            {line.text}
                        </li>
                    }
                }
            />
        </ol>
    }
}

#[component]
fn JobPanel() -> impl IntoView {
    let job = use_state::<Job>();
    let dashboard = use_state::<Dashboard>();
    let percent = move || job.with(|job| job.percent);
    let status = move || {
        let running = dashboard.with(|dashboard| dashboard.running.contains(&Panel::Job));
        match (running, percent()) {
            (true, _) => "exporting…".to_owned(),
            (false, 100) => "done".to_owned(),
            (false, 0) => "idle".to_owned(),
            (false, at) if job.with(|job| job.interrupted) => {
                format!("stopped at {at} % by a server restart")
            }
            (false, at) => format!("cancelled at {at} %"),
        }
    };
    view! {
        <p class="panel-figure" data-testid="ticks" data-ticks=percent>
            {move || format!("{} %", percent())}
        </p>
        <div class="progress" role="progressbar" aria-label="Export job" aria-valuemin="0" aria-valuemax="100" aria-valuenow=percent>
            <div class="progress-bar" style:width=move || format!("{}%", percent())></div>
        </div>
        <p class="muted" data-testid="job-status">{status}</p>
    }
}

#[component]
fn EnginePanel() -> impl IntoView {
    let engine = use_state::<EngineView>();
    let micros = |us: u64| format!("{:.2} ms", us as f64 / 1000.0);
    view! {
        <dl class="engine-stats" data-testid="ticks" data-ticks=move || engine.with(|engine| engine.samples)>
            <dt>"Sessions"</dt>
            <dd>{move || engine.with(|engine| engine.sessions)}</dd>
            <dt>"Lock wait"</dt>
            <dd>{move || engine.with(|engine| micros(engine.lock_wait_us))}</dd>
            <dt>"Lock hold"</dt>
            <dd>{move || engine.with(|engine| micros(engine.lock_hold_us))}</dd>
            <dt>"Queue wait"</dt>
            <dd>{move || engine.with(|engine| micros(engine.queue_wait_us))}</dd>
            <dt>"Tasks here"</dt>
            <dd>{move || engine.with(|engine| engine.tasks.len())}</dd>
        </dl>
        <ul class="engine-tasks">
            {move || engine.with(|engine| engine.tasks.iter().map(|task| view! { <li>{task.clone()}</li> }).collect_view())}
        </ul>
    }
}
