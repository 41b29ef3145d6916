//! A session's record in Redis: the owner's fenced save, which also
//! publishes to the followers, and reading the record back.

use std::sync::Arc;

use redis::AsyncCommands;

use super::{Broadcast, RedisStore, key, scripts};
use crate::{
    store::{
        StoreError,
        persister::{Dirty, Saver},
        record::StoredSession,
    },
    token::SessionToken,
};

impl Saver for Arc<RedisStore> {
    /// The fenced save of a batch (see [`scripts::SAVE`]): per session,
    /// whether Redis took it. A refused session is marked lost. One round
    /// trip for the whole batch.
    async fn save(&self, batch: &mut [Dirty]) -> Result<Vec<bool>, StoreError> {
        let mut invocation = scripts::SAVE.prepare_invoke();
        invocation
            .arg(RedisStore::millis(self.lease))
            .arg(RedisStore::millis(self.record_ttl));
        let mut sent = Vec::with_capacity(batch.len());
        for (index, dirty) in batch.iter().enumerate() {
            let Some(fence) = self.fence(&dirty.token).await? else {
                continue;
            };
            let payload = serde_json::to_vec(&Broadcast::Saved {
                through: dirty.through,
                messages: dirty.relayed.iter().map(|message| &**message).collect(),
            })
            .map_err(StoreError::new)?;
            invocation
                .key(key(&dirty.token, "owner"))
                .key(key(&dirty.token, "fence"))
                .key(key(&dirty.token, "record"))
                .arg(self.owner_value(fence))
                .arg(fence)
                .arg(&dirty.record)
                .arg(key(&dirty.token, "updates"))
                .arg(payload);
            sent.push(index);
        }
        let mut kept = vec![false; batch.len()];
        if sent.is_empty() {
            return Ok(kept);
        }
        let held: Vec<u8> = invocation
            .invoke_async(&mut self.commands.clone())
            .await
            .map_err(StoreError::new)?;
        for (index, held) in sent.into_iter().zip(held) {
            let saved = held != 0;
            kept[index] = saved;
            if !saved {
                self.lose(&batch[index].token);
            }
        }
        Ok(kept)
    }
}

impl RedisStore {
    /// The record as Redis has it now.
    pub(super) async fn load(
        &self,
        token: &SessionToken,
    ) -> Result<Option<StoredSession>, StoreError> {
        let record: Option<Vec<u8>> = self
            .commands
            .clone()
            .get(key(token, "record"))
            .await
            .map_err(StoreError::new)?;
        record
            .map(|bytes| StoredSession::decode(&bytes))
            .transpose()
    }
}
