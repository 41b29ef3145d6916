//! The engine's side of Redis: joining a session another process may run,
//! and the lease keeper that acts on what each renewal finds.

use std::sync::Arc;

use super::Engine;
use crate::{
    SessionHandle, SessionToken,
    session::{Role, lock},
    store::{
        Backend, StoreError,
        redis::{Joined, RedisStore, Renewal},
    },
};

impl Engine {
    pub(super) fn redis(&self) -> Option<Arc<RedisStore>> {
        match &self.inner.store {
            Some((Backend::Redis(redis), _)) => Some(Arc::clone(redis)),
            _ => None,
        }
    }

    /// A session not in this process: owned here from now on if nobody
    /// owns it, followed if another instance does.
    pub(super) async fn join(
        &self,
        redis: &Arc<RedisStore>,
        token: &SessionToken,
    ) -> Result<Option<SessionHandle>, StoreError> {
        let _joining = redis.joining.lock().await;
        if let Some(session) = self.session(token) {
            return Ok(Some(session));
        }
        let session = match redis.join(token).await? {
            Joined::Owner(fence, stored) => {
                let session = self.start(*token, stored, Role::Owner);
                redis.own(*token, Some(fence), &session.inner);
                session
            }
            Joined::Follower(stored) => {
                let forwarder = redis.forwarder(*token);
                let session = self.start(*token, stored, Role::Follower(forwarder));
                redis.follow(*token, &session.inner).await;
                session
            }
            Joined::Unknown => return Ok(None),
        };
        lock(&self.inner.sessions).insert(*token, session.clone());
        Ok(Some(session))
    }

    /// Renews this process's leases every third of a lease, or sooner when
    /// something changed hands, for as long as the engine exists.
    pub(super) fn spawn_keeper(&self, redis: Arc<RedisStore>) {
        let engine = Arc::downgrade(&self.inner);
        let period = redis.lease() / 3;
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    () = tokio::time::sleep(period) => {}
                    () = redis.keeper.notified() => {}
                }
                let Some(inner) = engine.upgrade() else {
                    return;
                };
                match redis.renew().await {
                    Ok(renewal) => Engine { inner }.apply(&redis, renewal).await,
                    Err(error) => tracing::warn!(%error, "renewing leases failed"),
                }
            }
        });
    }

    async fn apply(&self, redis: &Arc<RedisStore>, renewal: Renewal) {
        for token in renewal.lost {
            redis.forget(&token);
            if let Some(session) = self.remove(&token) {
                // Its tabs reconnect and find the session where it now runs.
                session.stop();
            }
        }
        for token in renewal.retaken {
            if let Some(session) = self.session(&token) {
                session.inner.persist();
            }
        }
        for token in renewal.orphaned {
            self.remove(&token);
            redis.leave(&token).await.ok();
            if let Err(error) = self.join(redis, &token).await {
                tracing::warn!(%error, "could not take over a session");
            }
        }
    }

    /// Drops the local copy of a session and ends its streams.
    fn remove(&self, token: &SessionToken) -> Option<SessionHandle> {
        let session = lock(&self.inner.sessions).remove(token)?;
        session.close_streams();
        Some(session)
    }
}
