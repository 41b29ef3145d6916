//! Where sessions outlive their process.
//!
//! A [`Store`] is a plain durable map from token to bytes; the engine owns
//! the record format ([`record`]) and the write path ([`persister`]).
//! Keeping stores that dumb means a new backend is a few dozen lines, and
//! every backend gets the same batching and the same durability rule: an
//! event is acknowledged to its client only once a store has it.
//!
//! Redis is not a `Store`: see the `cluster` module for why.

#[cfg(feature = "file")]
pub(crate) mod file;
pub(crate) mod persister;
pub(crate) mod record;

use crate::token::SessionToken;

/// A durable map of sessions. Calls may block (file or network I/O); the
/// engine makes them from blocking threads, never from async tasks.
pub trait Store: Send + Sync + 'static {
    /// The record kept for `token`, if any.
    fn load(&self, token: &SessionToken) -> Result<Option<Vec<u8>>, StoreError>;
    /// Writes every record of the batch, atomically and durably: when this
    /// returns `Ok`, all of them survive a crash.
    fn save(&self, batch: &[(SessionToken, Vec<u8>)]) -> Result<(), StoreError>;
    /// Forgets `token`'s record (the session expired).
    fn remove(&self, token: &SessionToken) -> Result<(), StoreError>;
}

/// A store failed; the text says how.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("state store: {0}")]
pub struct StoreError(pub String);

impl StoreError {
    /// Wraps any error as a store error.
    pub fn new(error: impl std::fmt::Display) -> Self {
        Self(error.to_string())
    }
}
