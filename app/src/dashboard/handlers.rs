//! Server side of the dashboard: one background task per panel, each
//! registered as superseding so a panel never has two, and the buttons
//! that start and cancel them through the engine.
//!
//! After a server restart the endless panels (chart, log, engine) start
//! again: they are restartable. The job is not (it would start over from
//! 0 %), so its `on_lost` hook marks it stopped, and the tab is told.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use rand::seq::IndexedRandom;
use stateside::{App, Cx, Task};

use super::*;

/// Lines the log tail keeps.
const LOG_LINES: usize = 10;

const CHART_TASK: HandlerId<()> = HandlerId::new("dashboard/chart");
const LOG_TASK: HandlerId<()> = HandlerId::new("dashboard/log");
const JOB_TASK: HandlerId<()> = HandlerId::new("dashboard/job");
const ENGINE_TASK: HandlerId<()> = HandlerId::new("dashboard/engine");
/// The probe's foreground half, sent with the time it was emitted.
const ENGINE_SAMPLE: HandlerId<u64> = HandlerId::new("dashboard/engine_sample");

impl Panel {
    const ALL: [Panel; 4] = [Panel::Chart, Panel::Log, Panel::Job, Panel::Engine];

    fn task(self) -> HandlerId<()> {
        match self {
            Panel::Chart => CHART_TASK,
            Panel::Log => LOG_TASK,
            Panel::Job => JOB_TASK,
            Panel::Engine => ENGINE_TASK,
        }
    }
}

fn start_panel(dashboard: &mut Cx<Dashboard>, panel: Panel) -> anyhow::Result<()> {
    if dashboard.running.insert(panel) {
        dashboard.start(panel.task(), &())?;
    }
    Ok(())
}

/// Cancels the panel's task through the engine: it stops at its next
/// await and sends nothing more.
fn stop_panel(dashboard: &mut Cx<Dashboard>, panel: Panel) {
    let handler = panel.task().name();
    for task in dashboard.tasks() {
        if task.handler == handler {
            dashboard.cancel(task.id);
        }
    }
    dashboard.running.remove(&panel);
}

async fn start(mut dashboard: Cx<Dashboard>, panel: Panel) -> anyhow::Result<()> {
    start_panel(&mut dashboard, panel)
}

async fn stop(mut dashboard: Cx<Dashboard>, panel: Panel) -> anyhow::Result<()> {
    stop_panel(&mut dashboard, panel);
    Ok(())
}

async fn start_all(mut dashboard: Cx<Dashboard>, (): ()) -> anyhow::Result<()> {
    Panel::ALL
        .into_iter()
        .try_for_each(|panel| start_panel(&mut dashboard, panel))
}

async fn stop_all(mut dashboard: Cx<Dashboard>, (): ()) -> anyhow::Result<()> {
    for panel in Panel::ALL {
        stop_panel(&mut dashboard, panel);
    }
    Ok(())
}

/// A random walk, every 400 ms.
async fn chart(mut task: Task<Chart>, (): ()) -> anyhow::Result<()> {
    loop {
        tokio::time::sleep(Duration::from_millis(400)).await;
        let mut chart = task.lock().await;
        let last = chart.points.last().copied().unwrap_or(50.0);
        let next = (last + rand::random_range(-8.0..=8.0)).clamp(5.0, 95.0);
        chart.points.push(next);
        while chart.points.len() > CHART_POINTS {
            chart.points.pop_front();
        }
        chart.ticks += 1;
    }
}

/// Made-up access log lines, at an irregular pace.
async fn log_tail(mut task: Task<LogTail>, (): ()) -> anyhow::Result<()> {
    const ROUTES: &[&str] = &[
        "GET /api/orders",
        "POST /api/cart",
        "GET /api/products/42",
        "PUT /api/users/7",
        "GET /healthz",
        "DELETE /api/sessions/3",
    ];
    loop {
        let pause = rand::random_range(300..=1200);
        tokio::time::sleep(Duration::from_millis(pause)).await;
        let route = ROUTES.choose(&mut rand::rng()).copied().unwrap_or("GET /");
        let (level, text) = match rand::random_range(0..20) {
            0 => ("ERROR", format!("{route} 502 upstream timed out")),
            1..=3 => (
                "WARN",
                format!("{route} 200 slow: {} ms", rand::random_range(500..2000)),
            ),
            _ => (
                "INFO",
                format!("{route} 200 in {} ms", rand::random_range(2..60)),
            ),
        };
        let mut log = task.lock().await;
        let seq = log.next_seq;
        log.next_seq += 1;
        log.lines.push(LogLine {
            seq,
            level: level.to_owned(),
            text,
        });
        while log.lines.len() > LOG_LINES {
            log.lines.pop_front();
        }
    }
}

/// 0 to 100 % in about six seconds; then the panel is no longer running.
async fn job(mut task: Task<Job>, (): ()) -> anyhow::Result<()> {
    *task.lock().await = Job::default();
    for _ in 0..100 {
        tokio::time::sleep(Duration::from_millis(60)).await;
        task.lock().await.percent += 1;
    }
    let mut job = task.lock().await;
    job.state_mut::<Dashboard>().running.remove(&Panel::Job);
    Ok(())
}

/// The job was running when the server stopped: it is not any more, and
/// its panel says why.
async fn job_lost(mut dashboard: Cx<Dashboard>, (): ()) -> anyhow::Result<()> {
    dashboard.running.remove(&Panel::Job);
    dashboard.state_mut::<Job>().interrupted = true;
    Ok(())
}

/// Once a second: how long this session's lock takes to get and to give
/// back, the process's session count, and a foreground sample.
async fn probe(mut task: Task<EngineView>, (): ()) -> anyhow::Result<()> {
    let mut held = Duration::ZERO;
    loop {
        tokio::time::sleep(Duration::from_secs(1)).await;
        let sessions = task.engine_stats().sessions;
        let asked = Instant::now();
        let mut view = task.lock().await;
        let locked = Instant::now();
        view.lock_wait_us = micros(locked - asked);
        view.lock_hold_us = micros(held);
        view.sessions = sessions;
        view.samples += 1;
        drop(view);
        // Includes computing and sending the patch, which the drop does.
        held = locked.elapsed();
        task.emit(ENGINE_SAMPLE, &unix_micros())?;
    }
}

/// Only a foreground handler can list the session's tasks; its wait in
/// the queue is measured from when the probe emitted it.
async fn engine_sample(mut view: Cx<EngineView>, emitted_at: u64) -> anyhow::Result<()> {
    view.queue_wait_us = unix_micros().saturating_sub(emitted_at);
    view.tasks = view
        .tasks()
        .iter()
        .map(|task| format!("{} #{}", task.handler, task.id))
        .collect();
    Ok(())
}

fn micros(duration: Duration) -> u64 {
    duration.as_micros().try_into().unwrap_or(u64::MAX)
}

fn unix_micros() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, micros)
}

pub fn register(app: App) -> App {
    app.on(START, start)
        .on(STOP, stop)
        .on(START_ALL, start_all)
        .on(STOP_ALL, stop_all)
        .internal(ENGINE_SAMPLE, engine_sample)
        .background_restartable(CHART_TASK, chart)
        .background_restartable(LOG_TASK, log_tail)
        .background_superseding(JOB_TASK, job)
        .on_lost(JOB_TASK, job_lost)
        .background_restartable(ENGINE_TASK, probe)
}
