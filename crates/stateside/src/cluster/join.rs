//! The engine's side of Redis: opening a session here, joining one another
//! process may run, and the lease keeper that acts on what each renewal
//! finds. It works on the process's [`Registry`], never on the engine.

use std::{
    sync::{Arc, Weak},
    time::Duration,
};

use super::{
    RedisStore,
    lease::{Joined, Renewal},
};
use crate::{
    registry::Registry,
    session::{Role, SessionHandle},
    store::{StoreError, record::StoredSession},
    token::SessionToken,
};

impl RedisStore {
    /// Readies a store for an engine whose idle sessions expire after
    /// `idle_ttl`: their records expire with them, and this process starts
    /// hearing what the other instances publish.
    pub(crate) fn start(mut self, idle_ttl: Duration) -> Arc<Self> {
        self.set_record_ttl(idle_ttl);
        let redis = Arc::new(self);
        redis.spawn_router();
        redis
    }

    /// A new session, owned here.
    pub(crate) fn open(self: &Arc<Self>, registry: &Registry) -> SessionHandle {
        let token = SessionToken::random();
        let session = registry.start(token, StoredSession::default(), Role::Owner);
        self.own(token, None, &session);
        // The first save takes the lease and puts the record where other
        // instances can find it.
        session.persist();
        session
    }

    /// A session not in this process: owned here from now on if nobody
    /// owns it, followed if another instance does.
    pub(crate) async fn join_session(
        self: &Arc<Self>,
        registry: &Registry,
        token: &SessionToken,
    ) -> Result<Option<SessionHandle>, StoreError> {
        let _joining = self.joining.lock().await;
        if let Some(session) = registry.get(token) {
            return Ok(Some(session));
        }
        let session = match self.join(token).await? {
            Joined::Owner(fence, stored) => {
                let session = registry.restore(*token, stored, Role::Owner);
                self.own(*token, Some(fence), &session);
                session
            }
            Joined::Follower(stored) => {
                let limit = registry.shared().config.queue_limit;
                let forwarder = Box::new(self.forwarder(*token, limit));
                let session = registry.start(*token, stored, Role::Follower(forwarder));
                self.follow(*token, &session).await;
                session
            }
            Joined::Unknown => return Ok(None),
        };
        Ok(Some(session))
    }

    /// Renews this process's leases every third of a lease, or sooner when
    /// something changed hands, for as long as the registry exists.
    pub(crate) fn spawn_keeper(self: &Arc<Self>, registry: Weak<Registry>) {
        let redis = Arc::clone(self);
        let period = self.lease / 3;
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    () = tokio::time::sleep(period) => {}
                    () = redis.keeper.notified() => {}
                }
                let Some(registry) = registry.upgrade() else {
                    return;
                };
                match redis.renew().await {
                    Ok(renewal) => redis.apply(&registry, renewal).await,
                    Err(error) => tracing::warn!(%error, "renewing leases failed"),
                }
            }
        });
    }

    async fn apply(self: &Arc<Self>, registry: &Registry, renewal: Renewal) {
        for token in renewal.lost {
            self.forget(&token);
            if let Some(session) = registry.remove(&token) {
                // Its tabs reconnect and find the session where it now runs.
                session.stop();
            }
        }
        for token in renewal.retaken {
            if let Some(session) = registry.get(&token) {
                session.persist();
            }
        }
        for token in renewal.orphaned {
            registry.remove(&token);
            self.leave(&token).await.ok();
            if let Err(error) = self.join_session(registry, &token).await {
                tracing::warn!(%error, "could not take over a session");
            }
        }
    }
}
