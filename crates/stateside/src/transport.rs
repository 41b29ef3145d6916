//! What only a transport needs: the wire messages, and the session's side
//! of a connection (how an event was taken, and a stream's start).
//!
//! A transport (the Leptos integration's HTTP endpoints, or a test client)
//! opens or resumes a session through [`Engine`](crate::Engine), passes
//! client events to [`SessionHandle::submit`](crate::SessionHandle::submit),
//! and streams what [`SessionHandle::subscribe`](crate::SessionHandle::subscribe)
//! returns. Handler code never needs anything here.

use std::sync::Arc;

use tokio::sync::broadcast;

pub use stateside_wire::{ClientEvent, DEFAULT_MAX_PAYLOAD, Notice, ServerMessage, Update};

/// How the engine took an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Submitted {
    /// Queued (foreground) or started (background).
    Accepted,
    /// Waiting for an earlier seq to arrive.
    Held,
    /// Seen before: acknowledged and ignored.
    Duplicate,
}

/// A subscriber's start: what it missed, then the live feed.
pub struct Subscription {
    /// Messages to send first: a snapshot, or the updates after the
    /// client's version, ending with the current ack.
    pub backlog: Vec<Arc<ServerMessage>>,
    /// Every message published from now on.
    pub live: broadcast::Receiver<Arc<ServerMessage>>,
}
