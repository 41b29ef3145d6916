//! The only code both sides of Stateside share: what travels on the wire, and
//! how a client applies it.
//!
//! Keeping these types in one crate that builds for `wasm32` and native means
//! the server and the browser can never disagree about a field name, and the
//! engine's tests can run the exact client-side apply code against the server.

mod document;
mod handler;
mod message;
mod state;

pub use document::{ApplyError, Document};
pub use handler::HandlerId;
pub use message::{Action, ClientEvent, DEFAULT_MAX_PAYLOAD, Notice, ServerMessage, Update};
pub use state::State;

/// RFC 6902 operations, re-exported so users name one crate.
pub use json_patch::{Patch, PatchOperation};
