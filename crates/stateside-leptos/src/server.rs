//! Serving Stateside from an axum app, so the app's server wires the
//! protocol in one place instead of knowing its routes, its guard and where
//! each part finds the engine.
//!
//! The protocol's server side is: the tab's socket (taken at its upgrade
//! by a middleware of ours, see [`socket`](crate::socket)), the patch
//! stream (an axum route of ours, given the engine as its state), the two
//! server functions of [`api`](crate::api) (which Leptos routes along with
//! the app's own, in `leptos_routes`), typed refusals
//! ([`status`]), and the same-origin [`guard`]
//! in front of all of them; and the security [`headers`] on every response. Since Leptos owns the server functions' routes,
//! the engine reaches them as Leptos context, through [`engine_context`]:
//!
//! ```ignore
//! Router::new()
//!     .leptos_routes_with_context(&options, routes, engine_context(engine.clone()), app)
//!     .fallback(file_and_error_handler(shell))
//!     .with_state(options)
//!     .stateside(engine)
//! ```

use axum::{
    Router,
    http::request::Parts,
    middleware,
    routing::{get, post},
};
use leptos::{
    nonce::Nonce,
    prelude::{provide_context, use_context},
};
use stateside::Engine;

use stateside_wire::{STREAM_PATH, UPLOAD_PATH};

use crate::{
    admission::{self, Admission},
    guard,
    headers::{self, CspNonce},
    receive::receive,
    socket::upgrade,
    status,
    stream::stream,
};

/// Adds Stateside's own routes to an axum [`Router`].
pub trait StatesideRouter {
    /// Adds the patch stream at [`STREAM_PATH`], the socket at
    /// [`SOCKET_PATH`](stateside_wire::SOCKET_PATH) and the upload route
    /// under [`UPLOAD_PATH`], served from `engine`;
    /// gives every refusal under
    /// [`PROTOCOL_PREFIX`](stateside_wire::PROTOCOL_PREFIX) its typed status
    /// and limits request bodies there to the engine's `max_payload`; and
    /// puts the same-origin guard in front of every route the router has so
    /// far, and the security [`headers`] (the Content-Security-Policy among
    /// them) on their responses.
    ///
    /// Call it after `leptos_routes_with_context`: the socket's route and
    /// the server functions are Leptos's, and a layer only wraps the routes
    /// that are already there.
    fn stateside(self, engine: Engine) -> Self;
}

impl<S: Clone + Send + Sync + 'static> StatesideRouter for Router<S> {
    fn stateside(self, engine: Engine) -> Self {
        // Added after the app's layers, so a body limit the app put on its
        // own routes does not cut uploads short: they have limits of their
        // own (`receive`).
        let stream = Router::new()
            .route(STREAM_PATH, get(stream))
            .route(&format!("{UPLOAD_PATH}{{*handler}}"), post(receive))
            .with_state(engine.clone());
        // The last layer runs first: the headers, the guard, the limits
        // per client address, then typed refusals (which thus also type
        // the socket's failed upgrades), then the socket.
        let routes = self
            .merge(stream)
            .layer(middleware::from_fn_with_state(
                engine.clone(),
                upgrade::socket,
            ))
            .layer(middleware::from_fn_with_state(
                engine.clone(),
                status::typed,
            ))
            .layer(middleware::from_fn_with_state(
                Admission::new(engine.config()),
                admission::admit,
            ))
            .layer(middleware::from_fn_with_state(
                engine.clone(),
                guard::same_origin,
            ));
        headers::secure(routes, engine)
    }
}

/// The `additional_context` for `leptos_axum`'s `leptos_routes_with_context`
/// (or `handle_server_fns_with_context`, or `file_and_error_handler_with_context`):
/// provides `engine` to the server functions, which fail without it, and
/// gives Leptos the nonce of the response's Content-Security-Policy, so the
/// inline scripts it writes may run.
pub fn engine_context(engine: Engine) -> impl Fn() + Clone + Send + Sync + 'static {
    move || {
        provide_context(engine.clone());
        let nonce =
            use_context::<Parts>().and_then(|parts| parts.extensions.get::<CspNonce>().cloned());
        if let Some(CspNonce(nonce)) = nonce {
            provide_context(Nonce::from_value(nonce));
        }
    }
}
