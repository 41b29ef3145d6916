//! The server binary. It only wires things together: configuration from
//! cargo-leptos's environment, the Leptos pages and server functions, the
//! static site files, and the app's own axum routes.

mod config;
mod metrics;
mod mock_api;

use std::error::Error;

use clap::Parser;

use app::{App, shell};
use axum::{Extension, Router, http::StatusCode, middleware, routing::get, serve::ListenerExt};
use leptos::prelude::*;
use leptos_axum::{LeptosRoutes, file_and_error_handler, generate_route_list};
use stateside::Engine;
use stateside_leptos::{guard, stream::stream};
use stateside_wire::STREAM_PATH;
use tower_http::{limit::RequestBodyLimitLayer, trace::TraceLayer};
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()))
        .init();

    let settings = config::Settings::parse();
    // `None`: read LEPTOS_* variables, which cargo-leptos (or scripts/e2e.sh)
    // sets, falling back to Leptos's defaults.
    let conf = get_configuration(None)?;
    let addr = conf.leptos_options.site_addr;
    let engine = settings
        .engine(app::handlers(&mock_api::products_url(addr))?)
        .await?;
    app::observe_engine(engine.clone());
    engine.spawn_expiry();
    let app = router(conf.leptos_options, app_routes(engine.clone()))
        .layer(middleware::from_fn(guard::same_origin))
        .layer(RequestBodyLimitLayer::new(settings.max_payload))
        .layer(Extension(engine.clone()));

    // No Nagle: an update is one small write that must leave at once; with
    // the client's delayed ACK, Nagle adds up to 40 ms to a round trip.
    let listener = tokio::net::TcpListener::bind(addr).await?.tap_io(|tcp| {
        if let Err(error) = tcp.set_nodelay(true) {
            tracing::warn!(%error, "could not set TCP_NODELAY");
        }
    });
    tracing::info!("listening on http://{addr}");
    axum::serve(listener, app)
        .with_graceful_shutdown(terminated(engine.clone()))
        .await?;
    // Connections are closed; let queued handlers finish, then stop tasks.
    engine.drain(settings.shutdown_grace).await;
    tracing::info!("stopped");
    Ok(())
}

/// Resolves on SIGTERM or Ctrl-C, after closing the engine to new events
/// and ending its streams (open SSE streams would otherwise hold the
/// graceful shutdown forever).
async fn terminated(engine: Engine) {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate()).expect("SIGTERM handler installs");
    tokio::select! {
        _ = term.recv() => {}
        _ = tokio::signal::ctrl_c() => {}
    }
    tracing::info!("shutting down");
    engine.close();
}

/// Routes outside Leptos, each already given its own state.
fn app_routes(engine: Engine) -> Router {
    let metrics = metrics::routes(engine.clone());
    // Live while the process runs; ready while it takes events.
    let ready = move || async move {
        if engine.is_accepting() {
            (StatusCode::OK, "ready")
        } else {
            (StatusCode::SERVICE_UNAVAILABLE, "shutting down")
        }
    };
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(ready))
        .merge(metrics)
        .route(STREAM_PATH, get(stream))
        .merge(mock_api::routes())
}

/// Leptos pages and server functions, then `extra`, with static files from
/// the site root (or the app's 404 page) for anything else.
fn router(options: LeptosOptions, extra: Router) -> Router {
    let routes = generate_route_list(App);
    Router::new()
        .leptos_routes(&options, routes, {
            let options = options.clone();
            move || shell(options.clone())
        })
        .fallback(file_and_error_handler(shell))
        .with_state(options)
        .merge(extra)
        .layer(TraceLayer::new_for_http())
}
