//! Where sessions outlive their process.
//!
//! A [`Store`] is a plain durable map from token to bytes; the engine owns
//! the record format ([`StoredSession`]) and the write path ([`persister`]).
//! Keeping stores that dumb means a new backend is a few dozen lines, and
//! every backend gets the same batching and the same durability rule: an
//! event is acknowledged to its client only once a store has it.

mod file;
pub(crate) mod persister;
pub(crate) mod redis;

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

pub use file::FileStore;
pub use redis::RedisStore;

use crate::SessionToken;

/// A durable map of sessions. Calls may block (file or network I/O); the
/// engine makes them from blocking threads, never from async tasks.
pub trait Store: Send + Sync + 'static {
    fn load(&self, token: &SessionToken) -> Result<Option<Vec<u8>>, StoreError>;
    /// Writes every record of the batch, atomically and durably: when this
    /// returns `Ok`, all of them survive a crash.
    fn save(&self, batch: &[(SessionToken, Vec<u8>)]) -> Result<(), StoreError>;
    fn remove(&self, token: &SessionToken) -> Result<(), StoreError>;
}

/// Where the persister writes: a plain [`Store`], or Redis, whose saves
/// are fenced per session and publish to the other instances.
#[derive(Clone)]
pub(crate) enum Backend {
    Store(Arc<dyn Store>),
    Redis(Arc<RedisStore>),
}

#[derive(Debug, thiserror::Error)]
#[error("state store: {0}")]
pub struct StoreError(pub String);

impl StoreError {
    pub fn new(error: impl std::fmt::Display) -> Self {
        Self(error.to_string())
    }
}

/// A session as a store keeps it: what its client was shown, and how far
/// its client's events have been applied. Server-only fields of a state
/// (`#[serde(skip)]`) are not part of it and come back as their defaults.
///
/// Generic over the document so the outbox can write one by reference.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct StoredSession<Document = Map<String, Value>> {
    pub(crate) version: u64,
    pub(crate) applied_through: u64,
    pub(crate) document: Document,
}

impl StoredSession {
    pub(crate) fn decode(bytes: &[u8]) -> Result<Self, StoreError> {
        serde_json::from_slice(bytes).map_err(StoreError::new)
    }
}
