//! Leptos glue for Stateside.
//!
//! - Each tab has one WebSocket ([`socket`]): events go up it and patches
//!   come down it.
//! - Where upgrades are refused, the page falls back by itself: events go
//!   up through Leptos server functions ([`api`]) and patches come down an
//!   SSE stream (`stream`, on the server).
//! - In the browser, [`Stateside`] holds the session document in a signal
//!   and components read typed states from it with [`use_state`], or single
//!   fields with [`use_field`], whose memos stop a change to one field from
//!   re-rendering views of the others.
//! - Until the first snapshot arrives, views of server state are marked
//!   `data-synced="false"` so CSS can hide the server-rendered defaults:
//!   after a reload the page never flashes values it does not have yet.
//!
//! # Layout
//!
//! - [`socket`]: the tab's WebSocket, a server function: the primary transport.
//! - [`api`]: the server functions that open a session and carry events up.
//! - `stream` (server): the SSE route that carries patches down.
//! - `session`, `cursor` (server): what both transports share: a session
//!   opened or resumed, events submitted with receipts, and a reader's place
//!   in the session's stream.
//! - `request` (server): the request context a transport hands its
//!   session: the client's address, and the headers and cookies kept.
//! - `receive` (server): the upload route, files streamed into an upload
//!   handler.
//! - `upload`: the page's side of an upload ([`use_upload`]): the files
//!   sent with their progress, and a cancel.
//! - `status` (server): typed HTTP answers for refusals on the fallback path.
//! - `guard` (server): refuses cross-origin calls to the endpoints.
//! - `headers` (server): the Content-Security-Policy and the other security
//!   headers on every response.
//! - `settings` (server): the flags every Stateside server takes, the
//!   store choice among them ([`Settings`]).
//! - `serve` (server): serving an app's router, and the shutdown that
//!   drains the engine ([`serve()`]).
//! - `context`: the [`Stateside`] client as signals, and typed reads of it.
//! - `components`: the connection banner, toasts and sync gate.
//! - `page`: page events, the tab's path for the server's `on_load` hooks
//!   ([`use_page_events`]).
//! - `form`: a submitted `<form>` as a handler's typed arguments
//!   ([`Stateside::submit`]).
//! - `pace`: debounced and throttled calls ([`use_debounced`],
//!   [`use_throttled`]).
//! - `client` (browser): the connection state machine, both transports, the
//!   outbox of unacknowledged events; sends, follows the stream, reconnects.
//! - `actions` (browser): performs the client actions handlers send.

#![warn(missing_docs)]

#[cfg(feature = "hydrate")]
mod actions;
#[cfg(feature = "ssr")]
mod admission;
pub mod api;
#[cfg(feature = "hydrate")]
mod client;
mod components;
mod context;
#[cfg(feature = "ssr")]
mod cursor;
mod form;
#[cfg(feature = "ssr")]
pub mod guard;
#[cfg(feature = "ssr")]
pub mod headers;
/// The client's outbox is plain logic, so its tests run in the native
/// `cargo test` too, where the rest of the browser client is not built.
#[cfg(all(test, not(feature = "hydrate")))]
#[path = "client/outbox.rs"]
mod outbox;
mod pace;
mod page;
#[cfg(feature = "ssr")]
mod receive;
#[cfg(feature = "ssr")]
mod request;
#[cfg(feature = "ssr")]
mod serve;
#[cfg(feature = "ssr")]
pub mod server;
#[cfg(feature = "ssr")]
mod session;
#[cfg(feature = "ssr")]
mod settings;
pub mod socket;
#[cfg(feature = "ssr")]
pub mod status;
#[cfg(feature = "ssr")]
pub mod stream;
mod upload;

pub use components::{ConnectionBanner, SyncGate, Toasts};
pub use context::{Stateside, Status, Transport, use_field, use_state, use_stateside};
pub use pace::{use_debounced, use_throttled};
pub use page::use_page_events;
#[cfg(feature = "ssr")]
pub use serve::serve;
#[cfg(feature = "ssr")]
pub use settings::{Settings, StoreChoice};
pub use upload::{FileProgress, UploadStatus, Uploader, use_upload};
