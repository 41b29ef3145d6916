//! Shared states in a durable store (the file store, or any [`Store`]).
//!
//! A shared state is saved as a record like a session's, under a key
//! derived from its name and key ([`SessionToken::derived`]), through the
//! same group-commit persister: a plain `Store` keeps both kinds, and one
//! write covers a batch of either. Redis does not keep shared states yet
//! (see the README): with it, each process holds its own.

use std::sync::Arc;

use crate::{
    store::{Store, StoreError, persister::Persister, record::StoredSession},
    token::SessionToken,
};

use super::SharedCell;

/// Separates these keys from any other use of the hash.
const DOMAIN: &str = "stateside shared state v1";

/// Where the shared states of a durable engine are kept.
pub(crate) struct Durable {
    store: Arc<dyn Store>,
    persister: Persister,
}

impl Durable {
    pub(crate) fn new(store: Arc<dyn Store>, persister: Persister) -> Self {
        Self { store, persister }
    }

    /// The record of the state `name` for `key`, if the store has one.
    pub(crate) async fn load(
        &self,
        name: &str,
        key: &str,
    ) -> Result<Option<StoredSession>, StoreError> {
        let (store, record) = (Arc::clone(&self.store), record_key(name, key));
        let loaded = tokio::task::spawn_blocking(move || store.load(&record))
            .await
            .map_err(StoreError::new)??;
        loaded
            .map(|bytes| StoredSession::decode(&bytes))
            .transpose()
    }

    /// Schedules a save of `cell`.
    pub(crate) fn save(&self, cell: &Arc<SharedCell>) {
        self.persister.mark_dirty(cell);
    }

    /// Deletes the record of a freed shared state.
    pub(crate) fn forget(&self, name: &str, key: &str) {
        let (store, record) = (Arc::clone(&self.store), record_key(name, key));
        tokio::task::spawn_blocking(move || {
            if let Err(error) = store.remove(&record) {
                tracing::warn!(%error, "could not remove a freed shared state");
            }
        });
    }
}

/// The store key of the state `name` for `key`.
pub(crate) fn record_key(name: &str, key: &str) -> SessionToken {
    SessionToken::derived(DOMAIN, &[name, key])
}
