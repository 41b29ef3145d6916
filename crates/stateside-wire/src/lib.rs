//! The only code both sides of Stateside share: what travels on the wire, and
//! how a client applies it.
//!
//! Keeping these types in one crate that builds for `wasm32` and native means
//! the server and the browser can never disagree about a field name, and the
//! engine's tests can run the exact client-side apply code against the server.
//!
//! # Layout
//!
//! - `message`: the events a client sends and the stream the server sends back.
//! - `compact`: the stream's wire form, a tag and arrays rather than names.
//! - `protocol`: the endpoints' paths, requests, replies and errors.
//! - `document`: the client's copy of the session document, and how a message
//!   moves it.
//! - `form`: per-field validation errors a handler keeps in a state.
//! - `handler`: typed handler names, so a call cannot misspell one.
//! - `page`: the event a tab sends when its page changes ([`NAVIGATE`]).
//! - `link`: which URLs a redirect or download may go to, for both sides.
//! - `storage`: fields a state keeps in the browser (`#[client(..)]`), the
//!   event that reads them into a session ([`STORED`]), and their text form.
//! - `exchange`: a one-time code a page hands to a route of the app, whose
//!   answer can set an `HttpOnly` cookie ([`CodeExchange`]).
//! - `upload`: the upload endpoint, where files go up streamed, not as
//!   events.
//! - `state`: the trait every piece of session state implements, derived
//!   with `#[derive(State)]` (re-exported from `stateside-macros`).
//! - `tracked`: collections that know their changes ([`List`], [`Map`]),
//!   so that a patch costs what the change costs.
//! - `size`: sizes as JSON, for the engine's byte budgets.
//! - `testing` (feature `testing`): a copy that checks every message is
//!   exact, for tests, fuzzing and the load generator.

#![warn(missing_docs)]

mod compact;
mod document;
mod exchange;
mod form;
mod handler;
mod link;
mod message;
mod page;
mod protocol;
mod shared;
mod size;
mod state;
mod storage;
mod tracked;
mod upload;

#[doc(hidden)]
#[path = "derive_support.rs"]
pub mod __private;
#[cfg(feature = "testing")]
pub mod testing;

pub use document::{ApplyError, Document};
pub use exchange::{CodeExchange, is_app_path};
pub use form::FieldErrors;
pub use handler::HandlerId;
pub use link::is_web_url;
pub use message::{
    Action, ClientEvent, DEFAULT_MAX_PAYLOAD, Notice, NoticeKind, ServerMessage, ToastLevel, Update,
};
pub use page::{NAVIGATE, Navigation};
pub use protocol::{
    Downward, OPEN_PATH, OpenRequest, PROTOCOL_PREFIX, ProtocolError, Receipt, Refusal,
    RefusalReason, SEND_PATH, SOCKET_PATH, STREAM_PATH, SendRequest, SessionInfo, Upward,
    socket_frame,
};
pub use shared::{Member, Presence, SharedState};
pub use size::json_size;
pub use state::State;
/// Derives [`State`](trait@State): see `stateside-macros`.
pub use stateside_macros::State;
pub use storage::{
    ClientField, Ignored, MAX_STORED_TEXT, Place, STORED, StorageBinding, StoredTextError,
    StoredValue, check_length, from_text, to_text,
};
pub use tracked::{List, Map, Tracked};
pub use upload::{FILE_FIELD, Files, SIZES_FIELD, TOKEN_HEADER, UPLOAD_PATH};

/// RFC 6902 operations, re-exported so users name one crate.
pub use json_patch::{Patch, PatchOperation};
