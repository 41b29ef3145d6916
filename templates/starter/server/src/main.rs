//! {{project-name}}'s server. It only wires things together: the engine on
//! the store the flags choose (`--help` lists them all), Leptos's pages and
//! server functions with the site's files, and Stateside's protocol.

use app::{App, shell};
use axum::Router;
use leptos::prelude::*;
use leptos_axum::{LeptosRoutes, file_and_error_handler_with_context, generate_route_list};
use stateside_leptos::{
    Settings,
    server::{StatesideRouter, engine_context},
};
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()))
        .init();
    let settings = Settings::from_args();
    // `None`: Leptos reads the LEPTOS_* variables cargo-leptos sets.
    let options = get_configuration(None)?.leptos_options;
    let addr = options.site_addr;
    let engine = settings.engine(app::handlers()).await?;
    engine.spawn_expiry();

    let pages = generate_route_list(App);
    let router = Router::new()
        .leptos_routes_with_context(&options, pages, engine_context(engine.clone()), {
            let options = options.clone();
            move || shell(options.clone())
        })
        .fallback(file_and_error_handler_with_context(
            engine_context(engine.clone()),
            shell,
        ))
        .with_state(options)
        .stateside(engine.clone());
    stateside_leptos::serve(router, addr, engine, settings.shutdown_grace.into()).await?;
    Ok(())
}
