//! The engine: every live session of one server process, by token.

use std::{
    collections::HashMap,
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, Ordering},
    },
    time::Duration,
};

use tokio::time::Instant;

use crate::{
    App, Config, Error, RedisStore, SessionHandle, SessionToken,
    session::{Origin, Role, lock},
    store::{Backend, Store, StoreError, StoredSession, persister::Persister},
};

mod cluster;

/// How far a restored session's version jumps (see [`Engine::resume`]).
const RESTORED_VERSION_GAP: u64 = 1 << 32;

/// What [`Engine::stats`] reports.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct EngineStats {
    pub sessions: usize,
    pub tasks: usize,
}

/// All sessions of the process. Cheap to clone: an `Arc` inside.
#[derive(Clone)]
pub struct Engine {
    inner: Arc<EngineInner>,
}

struct EngineInner {
    app: Arc<App>,
    config: Arc<Config>,
    closing: Arc<AtomicBool>,
    sessions: Mutex<HashMap<SessionToken, SessionHandle>>,
    /// A durable store and its writer, or `None` for memory only.
    store: Option<(Backend, Persister)>,
}

impl Engine {
    /// An engine whose sessions live in memory only.
    pub fn new(app: App, config: Config) -> Self {
        Self::build(app, config, None)
    }

    /// An engine whose sessions are saved to `store` and come back from it
    /// after a restart. Must be called inside a tokio runtime.
    pub fn with_store(app: App, config: Config, store: Arc<dyn Store>) -> Self {
        Self::durable(app, config, Backend::Store(store))
    }

    /// An engine that is one of several processes sharing sessions through
    /// Redis (see the `store::redis` module). Must be called inside a tokio
    /// runtime.
    pub fn with_redis(app: App, config: Config, mut redis: RedisStore) -> Self {
        redis.set_record_ttl(config.idle_ttl);
        let redis = Arc::new(redis);
        redis.spawn_router();
        let engine = Self::durable(app, config, Backend::Redis(Arc::clone(&redis)));
        engine.spawn_keeper(redis);
        engine
    }

    fn durable(app: App, config: Config, backend: Backend) -> Self {
        let persister = Persister::spawn(backend.clone());
        Self::build(app, config, Some((backend, persister)))
    }

    fn build(app: App, config: Config, store: Option<(Backend, Persister)>) -> Self {
        Self {
            inner: Arc::new(EngineInner {
                app: Arc::new(app),
                config: Arc::new(config),
                closing: Arc::default(),
                sessions: Mutex::default(),
                store,
            }),
        }
    }

    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    /// Creates a session with a fresh random token.
    pub fn create_session(&self) -> SessionHandle {
        let token = SessionToken::random();
        let Some(redis) = self.redis() else {
            let session = self.start(token, StoredSession::default(), Role::Alone);
            lock(&self.inner.sessions).insert(token, session.clone());
            return session;
        };
        let session = self.start(token, StoredSession::default(), Role::Owner);
        lock(&self.inner.sessions).insert(token, session.clone());
        redis.own(token, None, &session.inner);
        // The first save takes the lease and puts the record where other
        // instances can find it.
        session.inner.persist();
        session
    }

    /// A new session for a new tab, unless the process is at its limit.
    pub fn open_session(&self) -> Result<SessionHandle, Error> {
        let limit = self.inner.config.max_sessions;
        if self.session_count() >= limit {
            return Err(Error::TooManySessions { limit });
        }
        Ok(self.create_session())
    }

    /// A session this process has in memory.
    pub fn session(&self, token: &SessionToken) -> Option<SessionHandle> {
        lock(&self.inner.sessions).get(token).cloned()
    }

    /// A session from memory or, failing that, from the store: after a
    /// restart, this is how a returning tab gets its session back.
    pub async fn resume(&self, token: &SessionToken) -> Result<Option<SessionHandle>, StoreError> {
        if let Some(session) = self.session(token) {
            return Ok(Some(session));
        }
        let store = match &self.inner.store {
            None => return Ok(None),
            Some((Backend::Redis(redis), _)) => return self.join(redis, token).await,
            Some((Backend::Store(store), _)) => store,
        };
        let (store, key) = (Arc::clone(store), *token);
        let loaded = tokio::task::spawn_blocking(move || store.load(&key))
            .await
            .map_err(StoreError::new)??;
        let Some(bytes) = loaded else {
            return Ok(None);
        };
        let mut stored = StoredSession::decode(&bytes)?;
        // Updates are streamed before they are saved, so a tab may hold
        // versions past the stored one that a crash erased. Restarting the
        // numbering far above them makes every such tab resync from a
        // snapshot instead of taking new updates onto a copy they never had.
        stored.version += RESTORED_VERSION_GAP;
        let mut sessions = lock(&self.inner.sessions);
        // Another request may have restored it while we read.
        let session = sessions
            .entry(*token)
            .or_insert_with(|| self.start(*token, stored, Role::Alone))
            .clone();
        Ok(Some(session))
    }

    fn start(&self, token: SessionToken, stored: StoredSession, role: Role) -> SessionHandle {
        // A follower saves nothing: the owner does.
        let persister = match role {
            Role::Follower(_) => None,
            Role::Alone | Role::Owner => self
                .inner
                .store
                .as_ref()
                .map(|(_, persister)| persister.clone()),
        };
        SessionHandle::new(
            token,
            Arc::clone(&self.inner.app),
            Arc::clone(&self.inner.config),
            Arc::clone(&self.inner.closing),
            Origin {
                stored,
                persister,
                role,
            },
        )
    }

    pub fn session_count(&self) -> usize {
        lock(&self.inner.sessions).len()
    }

    /// Frees idle sessions; returns how many. A session with a running
    /// task, queued events or a connected tab is never idle.
    pub fn expire_idle(&self) -> usize {
        let now = Instant::now();
        let mut sessions = lock(&self.inner.sessions);
        let mut expired = Vec::new();
        sessions.retain(|token, session| {
            let expire = session.try_expire(now);
            if expire {
                expired.push(*token);
            }
            !expire
        });
        drop(sessions);
        let count = expired.len();
        match (&self.inner.store, expired.is_empty()) {
            (Some((Backend::Store(store), _)), false) => {
                let store = Arc::clone(store);
                tokio::task::spawn_blocking(move || {
                    for token in &expired {
                        if let Err(error) = store.remove(token) {
                            tracing::warn!(%error, "could not remove an expired session");
                        }
                    }
                });
            }
            // The record stays for another instance (Redis expires it after
            // the idle TTL); only the lease is given up.
            (Some((Backend::Redis(redis), _)), false) => {
                let redis = Arc::clone(redis);
                tokio::spawn(async move {
                    for token in &expired {
                        if let Err(error) = redis.leave(token).await {
                            tracing::warn!(%error, "could not release an expired session");
                        }
                    }
                });
            }
            _ => {}
        }
        count
    }

    /// Live sessions and their running background tasks, for monitoring.
    pub fn stats(&self) -> EngineStats {
        let sessions = self.sessions();
        EngineStats {
            sessions: sessions.len(),
            tasks: sessions.iter().map(|session| session.tasks().len()).sum(),
        }
    }

    /// False once [`close`](Self::close) has been called.
    pub fn is_accepting(&self) -> bool {
        !self.inner.closing.load(Ordering::SeqCst)
    }

    /// First step of a shutdown: refuse new events and end every stream, so
    /// the HTTP server's graceful shutdown is not held open by them.
    pub fn close(&self) {
        self.inner.closing.store(true, Ordering::SeqCst);
        for session in self.sessions() {
            session.close_streams();
        }
    }

    /// Second step: waits up to `grace` for queued events and running tasks
    /// to finish, then cancels what is left: running tasks, the running
    /// foreground handler (its unpublished changes roll back) and the events
    /// queued behind it. Returns whether all finished.
    pub async fn drain(&self, grace: Duration) -> bool {
        let deadline = Instant::now() + grace;
        loop {
            let busy: Vec<_> = self
                .sessions()
                .into_iter()
                .filter(|session| !session.is_quiet())
                .collect();
            if busy.is_empty() {
                return true;
            }
            if Instant::now() >= deadline {
                tracing::warn!(sessions = busy.len(), "grace period over; cancelling tasks");
                busy.iter().for_each(SessionHandle::stop);
                return false;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    fn sessions(&self) -> Vec<SessionHandle> {
        lock(&self.inner.sessions).values().cloned().collect()
    }

    /// Runs [`expire_idle`](Self::expire_idle) periodically, for as long as
    /// the engine exists.
    pub fn spawn_expiry(&self) {
        let engine = Arc::downgrade(&self.inner);
        let period = (self.inner.config.idle_ttl / 4).max(Duration::from_millis(10));
        tokio::spawn(async move {
            let mut ticks = tokio::time::interval(period);
            loop {
                ticks.tick().await;
                let Some(inner) = engine.upgrade() else {
                    return;
                };
                let freed = Engine { inner }.expire_idle();
                if freed > 0 {
                    tracing::debug!(freed, "expired idle sessions");
                }
            }
        });
    }
}
