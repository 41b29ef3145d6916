//! Leptos glue for Stateside.
//!
//! - Events go up through Leptos server functions ([`api`]).
//! - Patches come down an SSE stream ([`stream`], on the server), chosen
//!   over a websocket because the browser reconnects an `EventSource` by
//!   itself and sends `Last-Event-ID`, which is exactly the last document
//!   version the client applied.
//! - In the browser, [`Stateside`] holds the session document in a signal
//!   and components read typed states from it with [`use_state`].

pub mod api;
#[cfg(feature = "hydrate")]
mod client;
mod components;
mod context;
#[cfg(feature = "ssr")]
pub mod stream;

pub use components::{ConnectionBanner, Toasts};
pub use context::{Stateside, Status, use_state, use_stateside};
