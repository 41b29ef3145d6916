//! The leases this process holds: registering a session it runs, and the
//! periodic renewal that also tells the engine what changed hands.

use std::sync::{Arc, Weak};

use tokio::sync::{Notify, OnceCell};

use super::{Lease, RedisStore, key, scripts};
use crate::{
    SessionToken,
    session::{SessionInner, lock},
    store::StoreError,
};

/// What one renewal round found, for the engine to act on.
#[derive(Default)]
pub(crate) struct Renewal {
    /// Owned here no more: drop the local copy.
    pub(crate) lost: Vec<SessionToken>,
    /// The lease had lapsed with nobody taking it, and was taken back: the
    /// record may be gone (Redis restarted empty), so save it again.
    pub(crate) retaken: Vec<SessionToken>,
    /// Followed here, owned nowhere: take it over.
    pub(crate) orphaned: Vec<SessionToken>,
}

impl RedisStore {
    /// Registers a session this process runs, with its fence if it is
    /// known yet, and starts draining its inbox.
    pub(crate) fn own(
        self: &Arc<Self>,
        token: SessionToken,
        fence: Option<u64>,
        session: &Arc<SessionInner>,
    ) {
        let wake = Arc::new(Notify::new());
        let lease = Lease {
            fence: Arc::new(OnceCell::new_with(fence)),
            wake: Arc::clone(&wake),
            lost: false,
        };
        lock(&self.owned).insert(token, lease);
        self.drain(token, wake, Arc::downgrade(session));
    }

    /// Forgets a lease this process lost.
    pub(crate) fn forget(&self, token: &SessionToken) {
        if let Some(lease) = lock(&self.owned).remove(token) {
            lease.wake.notify_one();
        }
    }

    /// One round: renews every lease in one script call, and finds the
    /// followed sessions whose owner is gone in one `MGET`.
    pub(crate) async fn renew(&self) -> Result<Renewal, StoreError> {
        let mut renewal = Renewal::default();
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

    /// The follower registered for `token`, if any.
    pub(super) fn follower(&self, token: &SessionToken) -> Option<Arc<SessionInner>> {
        lock(&self.followed).get(token).and_then(Weak::upgrade)
    }
}
