//! Stateside's engine: server-held session state with Reflex's event model.
//!
//! Each session has states, a foreground queue whose handlers run one at a
//! time, and background tasks that run beside it and change state only under
//! the session's fair lock. Every change becomes a minimal RFC 6902 patch on
//! a versioned stream. Nothing here knows about HTTP or Leptos, so all of it
//! is tested and benchmarked with plain `cargo test` and `cargo bench`.
//!
//! # Layout
//!
//! Each module uses only modules listed before it.
//!
//! - `config`, `error`, `token`, `task_id`, `mutex`: settings, refusals,
//!   session tokens, task ids, and the one way to take a std mutex.
//! - `incident`: a failure as the browser sees it (a generic message and
//!   an error id) and as the log has it ([`incident`]).
//! - [`transport`]: what only a transport needs: wire messages,
//!   [`Submitted`](transport::Submitted), [`Subscription`](transport::Subscription).
//! - `request`: what the server saw of the HTTP request behind a tab's
//!   connection ([`RequestContext`]).
//! - `census`: engine-wide counts that sessions keep, and [`EngineStats`].
//! - `budget`: byte sizes, for the per-session byte budgets.
//! - `state_map`: a session's states, with cheap commit and rollback.
//! - `sequencer`: exactly-once, in-order delivery of client events.
//! - `lock`: the fair session lock shared by handlers, tasks and readers.
//! - `action`: which client actions a handler may send ([`ActionRefused`]).
//! - `page`: which page each tab shows ([`Page`]), and the app's
//!   `on_load` and `on_unload` hooks.
//! - `shared`: shared states, one value per key linked by many sessions,
//!   with their lock order.
//! - `section`: a lock section, the part [`Cx`] and [`Guard`] share.
//! - `call`: the contract between a session and handler code (`Host`).
//! - `linking`: linking a session to shared states and locking them into
//!   a section, for `Cx` and `Guard` alike.
//! - `login`: who a tab is logged in as ([`Authenticator`]), and the guard
//!   that refuses protected handlers to anonymous sessions.
//! - `cx`, `task`: the handler API, [`Cx`], [`Task`] and [`Guard`].
//! - `upload`: files a page uploads, as an upload handler reads them
//!   ([`Uploads`], [`Upload`]).
//! - `navigation`: the built-in handlers that move a tab's page and run
//!   the app's page hooks.
//! - `client_storage`: the fields states keep in the browser, and the
//!   built-in handler that reads a tab's stored values into its session.
//! - `app`: handlers registered by name, and decoding events for them.
//! - `store`: the [`Store`] trait, the record format, [`FileStore`], and the
//!   persister that batches saves.
//! - `outbox`: what a session has published: versions, replay, live streams.
//! - `session`: one session: its actor, intake, work, tasks and publishing.
//! - `registry`: the live sessions of the process, by token.
//! - `cluster`: Redis, for several processes acting as one app.
//! - `engine`: [`Engine`], the way to open and find sessions, and shutdown.

#![warn(missing_docs)]

mod action;
mod app;
mod budget;
mod call;
mod census;
mod client_storage;
#[cfg(feature = "redis")]
mod cluster;
mod config;
mod cx;
mod engine;
mod error;
mod incident;
mod linking;
mod lock;
mod login;
mod mutex;
mod navigation;
mod outbox;
mod page;
mod registry;
mod request;
mod section;
mod sequencer;
mod session;
mod shared;
mod state_map;
mod store;
mod task;
mod task_id;
mod token;
pub mod transport;
mod upload;

pub use action::ActionRefused;
pub use app::App;
pub use census::EngineStats;
#[cfg(feature = "redis")]
pub use cluster::RedisStore;
pub use config::Config;
pub use cx::Cx;
pub use engine::{EmitError, Engine};
pub use error::Error;
pub use incident::incident;
pub use login::{Authenticator, LoginRequired, UserId};
pub use page::Page;
pub use request::RequestContext;
pub use session::{SessionHandle, UploadEnd, UploadRefused, UploadTask};
pub use state_map::{SessionState, StateMap};
#[cfg(feature = "file")]
pub use store::file::FileStore;
pub use store::{Store, StoreError};
pub use task::{Guard, Task};
pub use task_id::{TaskId, TaskInfo};
pub use token::{BadToken, SessionToken};
pub use upload::{ByteStream, Upload, UploadError, Uploads};

pub use stateside_wire::{Action, Files, HandlerId, Member, Presence, SharedState, State};
