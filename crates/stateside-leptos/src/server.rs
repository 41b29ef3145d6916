//! Serving Stateside from an axum app, so the app's server wires the
//! protocol in one place instead of knowing its routes, its guard and where
//! each part finds the engine.
//!
//! The protocol's server side is three things: the patch stream (an axum
//! route of ours, given the engine as its state), the two server functions
//! of [`api`](crate::api) (which Leptos routes along with the app's own, in
//! `leptos_routes`), and the same-origin [`guard`] in front of
//! all of them. Since Leptos owns the server functions' routes, the engine
//! reaches them as Leptos context, through [`engine_context`]:
//!
//! ```ignore
//! Router::new()
//!     .leptos_routes_with_context(&options, routes, engine_context(engine.clone()), app)
//!     .fallback(file_and_error_handler(shell))
//!     .with_state(options)
//!     .stateside(engine)
//! ```

use axum::{Router, middleware, routing::get};
use leptos::prelude::provide_context;
use stateside::Engine;

use stateside_wire::STREAM_PATH;

use crate::{guard, stream::stream};

/// Adds Stateside's own routes to an axum [`Router`].
pub trait StatesideRouter {
    /// Adds the patch stream at [`STREAM_PATH`], served from `engine`, and
    /// puts the same-origin guard in front of every route the router has so
    /// far.
    ///
    /// Call it after `leptos_routes_with_context`: the guard must also
    /// cover the server functions, and a layer only wraps the routes that
    /// are already there.
    fn stateside(self, engine: Engine) -> Self;
}

impl<S: Clone + Send + Sync + 'static> StatesideRouter for Router<S> {
    fn stateside(self, engine: Engine) -> Self {
        let stream = Router::new()
            .route(STREAM_PATH, get(stream))
            .with_state(engine);
        self.merge(stream)
            .layer(middleware::from_fn(guard::same_origin))
    }
}

/// The `additional_context` for `leptos_axum`'s `leptos_routes_with_context`
/// (or `handle_server_fns_with_context`): provides `engine` to the server
/// functions, which fail without it.
pub fn engine_context(engine: Engine) -> impl Fn() + Clone + Send + Sync + 'static {
    move || provide_context(engine.clone())
}
