//! Prometheus metrics at `/metrics`.
//!
//! The engine records counters and histograms through the `metrics` facade
//! (events by handler and outcome, lock wait and hold, tasks started, update
//! bytes); this module installs the Prometheus recorder behind it and adds
//! the gauges that are cheapest to read at scrape time.

use axum::{Router, routing::get};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use stateside::Engine;

/// How often histogram samples are folded into their summaries.
const UPKEEP_EVERY: std::time::Duration = std::time::Duration::from_secs(5);

/// Installs the recorder (once per process) and returns the route.
pub fn routes(engine: Engine) -> Router {
    let handle = PrometheusBuilder::new()
        .install_recorder()
        .expect("the metrics recorder is installed once, at startup");
    // Histograms keep every sample until upkeep folds them into their
    // summaries; without it memory grows with every event whether or not
    // anyone scrapes (the soak test found this).
    let upkeep = handle.clone();
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(UPKEEP_EVERY);
        loop {
            ticks.tick().await;
            upkeep.run_upkeep();
        }
    });
    Router::new().route(
        "/metrics",
        get(move || render(handle.clone(), engine.clone())),
    )
}

async fn render(handle: PrometheusHandle, engine: Engine) -> String {
    let stats = engine.stats();
    metrics::gauge!("stateside_sessions").set(stats.sessions as f64);
    metrics::gauge!("stateside_tasks_running").set(stats.tasks as f64);
    handle.render()
}
