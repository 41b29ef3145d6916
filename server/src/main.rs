//! The server binary. It only wires things together: the engine from the
//! flags, Leptos's pages and server functions with the static site files
//! (configured from cargo-leptos's environment), Stateside's protocol, and
//! the routes that operations and the posts demo need.

mod config;
mod metrics;
mod mock_api;

use std::{error::Error, io::IsTerminal};

use clap::Parser;

use app::{
    App,
    account::{Accounts, routes::secure_cookies},
    shell,
};
use axum::{
    Router,
    body::Bytes,
    extract::Path,
    http::{StatusCode, header::SET_COOKIE},
    response::IntoResponse,
    routing::{get, post},
};
use leptos::prelude::*;
use leptos_axum::{LeptosRoutes, file_and_error_handler_with_context, generate_route_list};
use stateside::Engine;
use stateside_leptos::server::{StatesideRouter, engine_context};
use tower_http::{limit::RequestBodyLimitLayer, trace::TraceLayer};
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()))
        // Colours for a person at a terminal, plain text for a log file.
        .with_ansi(std::io::stdout().is_terminal())
        .init();

    let flags = config::Flags::parse();
    // `None`: read LEPTOS_* variables, which cargo-leptos (or scripts/e2e.sh)
    // sets, falling back to Leptos's defaults.
    let conf = get_configuration(None)?;
    let options = conf.leptos_options;
    let addr = options.site_addr;
    let (accounts, sign_outs) = Accounts::in_memory();
    let engine = flags
        .stateside
        .engine(app::handlers(
            &mock_api::products_url(addr),
            flags.bench_handlers,
            &accounts,
        )?)
        .await?;
    engine.spawn_expiry();
    tokio::spawn(sign_outs.deliver(engine.clone()));

    let routes = generate_route_list(App);
    let app = Router::new()
        .leptos_routes_with_context(&options, routes, engine_context(engine.clone()), {
            let options = options.clone();
            move || shell(options.clone())
        })
        // With the engine's context too: the not-found page is rendered
        // with the CSP nonce, so it hydrates like any other.
        .fallback(file_and_error_handler_with_context(
            engine_context(engine.clone()),
            shell,
        ))
        .with_state(options)
        .merge(operations(engine.clone()))
        .merge(mock_api::routes())
        .merge(inbox_webhook(engine.clone()))
        .merge(account_routes(
            accounts,
            secure_cookies(&engine.config().public_origins),
        ))
        // Inside Stateside's layers, which answer an oversized body to the
        // protocol with a typed 413 of their own.
        .layer(RequestBodyLimitLayer::new(flags.stateside.max_payload))
        .stateside(engine.clone())
        .layer(TraceLayer::new_for_http().make_span_with(request_span));

    let grace = flags.stateside.shutdown_grace.into();
    stateside_leptos::serve(app, addr, engine, grace).await?;
    Ok(())
}

/// A request's span names its method and path, never its query: the
/// stream's query carries the session token, a credential.
fn request_span(request: &axum::extract::Request) -> tracing::Span {
    tracing::debug_span!("request", method = %request.method(), path = %request.uri().path())
}

/// The inbox demo's webhook, `POST /api/inbox/{code}` with the message as
/// the body; `app::inbox::webhook` decides the answer.
fn inbox_webhook(engine: Engine) -> Router {
    let deliver = move |Path(code): Path<String>, body: Bytes| async move {
        let reply = app::inbox::webhook::post(&engine, &code, &body).await;
        let status =
            StatusCode::from_u16(reply.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        (status, reply.body)
    };
    Router::new().route("/api/inbox/{code}", post(deliver))
}

/// The account page's login route, `POST /auth/session` with a code
/// exchange as the body; `app::account::routes` decides the answer.
fn account_routes(accounts: Accounts, secure: bool) -> Router {
    use app::account::routes::{SESSION_PATH, redeem};
    let session = move |body: Bytes| async move {
        let reply = redeem(&accounts, &body, secure);
        let status =
            StatusCode::from_u16(reply.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let cookie = reply.set_cookie.map(|cookie| [(SET_COOKIE, cookie)]);
        (status, cookie, reply.body).into_response()
    };
    Router::new().route(SESSION_PATH, post(session))
}

/// Health, readiness and metrics, for whatever runs the server.
fn operations(engine: Engine) -> Router {
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
}
