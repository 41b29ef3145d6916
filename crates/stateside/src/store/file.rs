//! The durable embedded store: one redb file.
//!
//! redb is pure Rust, crash-safe (copy-on-write B-trees with a checksummed
//! commit) and needs no service, which is what "embedded and durable" asks.
//! Every `save` is one write transaction committed with fsync, so the
//! durability point is the end of `save`: the persister batches all dirty
//! sessions into one transaction, so throughput does not pay one fsync per
//! event.

use std::path::Path;

use redb::{Database, ReadableDatabase, TableDefinition};

use super::{Store, StoreError};
use crate::token::SessionToken;

const SESSIONS: TableDefinition<u128, &[u8]> = TableDefinition::new("sessions");

/// A [`Store`] in one redb file on local disk.
pub struct FileStore {
    database: Database,
}

impl FileStore {
    /// Opens the database at `path`, creating it if it does not exist.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, StoreError> {
        let database = Database::create(path).map_err(StoreError::new)?;
        // Create the table up front so that reads never meet a missing one.
        let transaction = database.begin_write().map_err(StoreError::new)?;
        transaction.open_table(SESSIONS).map_err(StoreError::new)?;
        transaction.commit().map_err(StoreError::new)?;
        Ok(Self { database })
    }
}

impl Store for FileStore {
    fn load(&self, token: &SessionToken) -> Result<Option<Vec<u8>>, StoreError> {
        let transaction = self.database.begin_read().map_err(StoreError::new)?;
        let table = transaction.open_table(SESSIONS).map_err(StoreError::new)?;
        let record = table.get(token.as_u128()).map_err(StoreError::new)?;
        Ok(record.map(|bytes| bytes.value().to_vec()))
    }

    fn save(&self, batch: &[(SessionToken, Vec<u8>)]) -> Result<(), StoreError> {
        let transaction = self.database.begin_write().map_err(StoreError::new)?;
        {
            let mut table = transaction.open_table(SESSIONS).map_err(StoreError::new)?;
            for (token, bytes) in batch {
                table
                    .insert(token.as_u128(), bytes.as_slice())
                    .map_err(StoreError::new)?;
            }
        }
        transaction.commit().map_err(StoreError::new)
    }

    fn remove(&self, token: &SessionToken) -> Result<(), StoreError> {
        let transaction = self.database.begin_write().map_err(StoreError::new)?;
        {
            let mut table = transaction.open_table(SESSIONS).map_err(StoreError::new)?;
            table.remove(token.as_u128()).map_err(StoreError::new)?;
        }
        transaction.commit().map_err(StoreError::new)
    }
}
