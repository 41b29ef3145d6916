//! The leases this process holds: taking one, registering a session it
//! runs, giving one up, and the periodic renewal that also tells the engine
//! what changed hands.

use std::{collections::HashSet, sync::Arc};

use stateside_wire::ServerMessage;
use tokio::sync::{Notify, OnceCell};

use super::{Broadcast, Lease, RedisStore, key, scripts};
use crate::{
    mutex::lock,
    session::SessionHandle,
    store::{StoreError, record::StoredSession},
    token::SessionToken,
};

/// What joining a session found.
pub(super) enum Joined {
    /// This process now owns it, with this fence.
    Owner(u64, StoredSession),
    /// Another instance owns it.
    Follower(StoredSession),
    /// Redis has no such session.
    Unknown,
}

/// What one renewal round found, for the engine to act on.
#[derive(Default)]
pub(super) struct Renewal {
    /// Owned here no more: drop the local copy.
    pub(super) lost: Vec<SessionToken>,
    /// The lease had lapsed with nobody taking it, and was taken back: the
    /// record may be gone (Redis restarted empty), so save it again.
    pub(super) retaken: Vec<SessionToken>,
    /// Followed here, owned nowhere: take it over.
    pub(super) orphaned: Vec<SessionToken>,
}

impl RedisStore {
    /// Registers a session this process runs, with its fence if it is
    /// known yet, and starts draining its inbox.
    pub(super) fn own(
        self: &Arc<Self>,
        token: SessionToken,
        fence: Option<u64>,
        session: &SessionHandle,
    ) {
        let wake = Arc::new(Notify::new());
        let lease = Lease {
            fence: Arc::new(OnceCell::new_with(fence)),
            wake: Arc::clone(&wake),
            lost: false,
        };
        lock(&self.owned).insert(token, lease);
        self.names.learn(token);
        self.drain(token, wake, session.downgrade());
    }

    /// Forgets a lease this process lost.
    pub(super) fn forget(&self, token: &SessionToken) {
        if let Some(lease) = lock(&self.owned).remove(token) {
            lease.wake.notify_one();
        }
    }

    /// One round: renews every lease in one script call, and finds the
    /// followed sessions whose owner is gone in one `MGET`.
    pub(super) async fn renew(&self) -> Result<Renewal, StoreError> {
        let mut renewal = Renewal::default();
        self.forget_names();
        let mut held = Vec::new();
        for (token, lease) in lock(&self.owned).iter() {
            match lease.fence.get() {
                _ if lease.lost => renewal.lost.push(*token),
                Some(fence) => held.push((*token, *fence)),
                None => {}
            }
        }
        let mut commands = self.commands.clone();
        if !held.is_empty() {
            let mut invocation = scripts::RENEW.prepare_invoke();
            invocation
                .arg(Self::millis(self.lease))
                .arg(Self::millis(self.record_ttl));
            for (token, fence) in &held {
                invocation
                    .key(key(token, "owner"))
                    .key(key(token, "fence"))
                    .key(key(token, "record"))
                    .arg(self.owner_value(*fence))
                    .arg(fence);
            }
            let results: Vec<u8> = invocation
                .invoke_async(&mut commands)
                .await
                .map_err(StoreError::new)?;
            for ((token, _), result) in held.into_iter().zip(results) {
                match result {
                    1 => {}
                    2 => renewal.retaken.push(token),
                    _ => renewal.lost.push(token),
                }
            }
        }
        let followed: Vec<SessionToken> = lock(&self.followed).keys().copied().collect();
        if !followed.is_empty() {
            let mut mget = redis::cmd("MGET");
            for token in &followed {
                mget.arg(key(token, "owner"));
            }
            let owners: Vec<Option<String>> = mget
                .query_async(&mut commands)
                .await
                .map_err(StoreError::new)?;
            renewal.orphaned = followed
                .into_iter()
                .zip(owners)
                .filter_map(|(token, owner)| owner.is_none().then_some(token))
                .collect();
        }
        Ok(renewal)
    }

    /// Tries to take the lease of a session another process may run.
    pub(super) async fn join(&self, token: &SessionToken) -> Result<Joined, StoreError> {
        self.acquire(token, false).await
    }

    async fn acquire(&self, token: &SessionToken, create: bool) -> Result<Joined, StoreError> {
        let (fence, record): (u64, Option<Vec<u8>>) = scripts::ACQUIRE
            .key(key(token, "owner"))
            .key(key(token, "fence"))
            .key(key(token, "record"))
            .arg(&self.instance)
            .arg(Self::millis(self.lease))
            .arg(u8::from(create))
            .arg(Self::millis(self.record_ttl))
            .invoke_async(&mut self.commands.clone())
            .await
            .map_err(StoreError::new)?;
        let stored = record
            .map(|bytes| StoredSession::decode(&bytes))
            .transpose()?;
        Ok(match (fence, stored) {
            (0, None) => Joined::Unknown,
            (0, Some(stored)) => Joined::Follower(stored),
            (fence, stored) => Joined::Owner(fence, stored.unwrap_or_default()),
        })
    }

    /// This process's fence for a session it owns, taking the lease first
    /// if the session was created here and never saved. `None` if it does
    /// not own the session (any more).
    pub(super) async fn fence(&self, token: &SessionToken) -> Result<Option<u64>, StoreError> {
        let Some(cell) = self.lease_of(token).map(|lease| lease.fence) else {
            return Ok(None);
        };
        let fence = cell
            .get_or_try_init(|| async {
                match self.acquire(token, true).await? {
                    Joined::Owner(fence, _) => Ok(fence),
                    // A fresh random token that someone else holds.
                    Joined::Follower(_) | Joined::Unknown => Err(None),
                }
            })
            .await;
        match fence {
            Ok(fence) => Ok(Some(*fence)),
            Err(None) => {
                self.lose(token);
                Ok(None)
            }
            Err(Some(error)) => Err(error),
        }
    }

    pub(super) fn lease_of(&self, token: &SessionToken) -> Option<Lease> {
        lock(&self.owned)
            .get(token)
            .filter(|lease| !lease.lost)
            .cloned()
    }

    pub(super) fn lose(&self, token: &SessionToken) {
        if let Some(lease) = lock(&self.owned).get_mut(token) {
            tracing::warn!(session = %token.log_tag(), "lost the session's lease to another instance; dropping it here");
            lease.lost = true;
        }
        self.keeper.notify_one();
    }

    /// Forgets the channel names of sessions neither owned nor followed
    /// here any more: their messages are no longer this process's concern.
    fn forget_names(&self) {
        let mut keep: HashSet<SessionToken> = lock(&self.owned).keys().copied().collect();
        keep.extend(lock(&self.followed).keys().copied());
        self.names.keep_only(&keep);
    }

    /// Lets go of a session: gives its lease up, telling the followers,
    /// or stops following it.
    pub(crate) async fn leave(&self, token: &SessionToken) -> Result<(), StoreError> {
        self.unfollow(token).await;
        let Some(lease) = lock(&self.owned).remove(token) else {
            return Ok(());
        };
        lease.wake.notify_one(); // the inbox drainer sees it is over
        match lease.fence.get() {
            Some(fence) => self.release(token, *fence).await,
            None => Ok(()),
        }
    }

    /// Lets go of every session, at shutdown: the followers of those owned
    /// here take them over at once.
    pub(crate) async fn leave_all(&self) {
        let owned: Vec<SessionToken> = lock(&self.owned).keys().copied().collect();
        let followed: Vec<SessionToken> = lock(&self.followed).keys().copied().collect();
        for token in owned.iter().chain(&followed) {
            if let Err(error) = self.leave(token).await {
                tracing::warn!(%error, "could not release a session");
            }
        }
    }

    /// Gives the lease with `fence` up, unless it is already another's.
    async fn release(&self, token: &SessionToken, fence: u64) -> Result<(), StoreError> {
        let payload =
            serde_json::to_vec(&Broadcast::<ServerMessage>::Released).map_err(StoreError::new)?;
        let _: u8 = scripts::RELEASE
            .key(key(token, "owner"))
            .arg(self.owner_value(fence))
            .arg(key(token, "updates"))
            .arg(payload)
            .invoke_async(&mut self.commands.clone())
            .await
            .map_err(StoreError::new)?;
        Ok(())
    }
}
