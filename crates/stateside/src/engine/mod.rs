//! The engine: every live session of one server process, by token, and the
//! one way to open or find a session.

mod lifecycle;

use std::sync::Arc;

use serde::Serialize;
use stateside_wire::HandlerId;

#[cfg(feature = "redis")]
use crate::cluster::RedisStore;
use crate::{
    app::App,
    census::{Census, EngineStats},
    config::Config,
    error::Error,
    registry::Registry,
    session::{Role, SessionHandle, Shared},
    shared::{self, SharedStates},
    store::{Store, StoreError, persister::Persister, record::StoredSession},
    token::SessionToken,
};

/// All sessions of the process. Cheap to clone: an `Arc` inside.
#[derive(Clone)]
pub struct Engine {
    inner: Arc<EngineInner>,
}

struct EngineInner {
    registry: Arc<Registry>,
    /// Where sessions outlive the process, or `None` for memory only.
    durable: Option<Durable>,
}

/// A durable backend: a plain [`Store`], or Redis shared with other
/// processes.
enum Durable {
    Store(Arc<dyn Store>),
    #[cfg(feature = "redis")]
    Redis(Arc<RedisStore>),
}

impl Engine {
    /// An engine whose sessions live in memory only.
    pub fn new(app: App, config: Config) -> Self {
        Self::build(Self::shared(app, config, None), None, None)
    }

    /// An engine whose sessions are saved to `store` and come back from it
    /// after a restart. Must be called inside a tokio runtime.
    pub fn with_store(app: App, config: Config, store: Arc<dyn Store>) -> Self {
        let persister = Persister::spawn(Arc::clone(&store));
        let shared_store = shared::Durable::new(Arc::clone(&store), persister.clone());
        Self::build(
            Self::shared(app, config, Some(shared_store)),
            Some(persister),
            Some(Durable::Store(store)),
        )
    }

    /// An engine that is one of several processes sharing sessions through
    /// Redis (see [`RedisStore`]). Must be called inside a tokio runtime.
    #[cfg(feature = "redis")]
    pub fn with_redis(app: App, config: Config, redis: RedisStore) -> Self {
        let redis = redis.start(config.idle_ttl);
        let persister = Persister::spawn(Arc::clone(&redis));
        let mut shared = Self::shared(app, config, None);
        shared.shared_states = Arc::new(
            SharedStates::new(shared.config.idle_ttl, shared.config.max_state_bytes, None)
                .per_process(),
        );
        let engine = Self::build(
            shared,
            Some(persister),
            Some(Durable::Redis(Arc::clone(&redis))),
        );
        redis.spawn_keeper(Arc::downgrade(&engine.inner.registry));
        engine
    }

    fn shared(app: App, config: Config, shared_store: Option<shared::Durable>) -> Shared {
        Shared {
            app: Arc::new(app),
            closing: Arc::default(),
            census: Arc::new(Census::default()),
            shared_states: Arc::new(SharedStates::new(
                config.idle_ttl,
                config.max_state_bytes,
                shared_store,
            )),
            config: Arc::new(config),
        }
    }

    fn build(shared: Shared, persister: Option<Persister>, durable: Option<Durable>) -> Self {
        Self {
            inner: Arc::new(EngineInner {
                registry: Arc::new(Registry::new(shared, persister)),
                durable,
            }),
        }
    }

    /// The settings the engine runs with.
    pub fn config(&self) -> &Config {
        &self.inner.registry.shared().config
    }

    /// The app the engine runs.
    pub fn app(&self) -> &App {
        &self.inner.registry.shared().app
    }

    /// A new session with a fresh random token, for a new tab. At the
    /// session limit it takes the place of the longest-idle session, and is
    /// refused only if none is idle.
    pub fn open(&self) -> Result<SessionHandle, Error> {
        let registry = &self.inner.registry;
        let limit = registry.shared().config.max_sessions;
        if registry.len() >= limit && !self.evict_longest_idle() {
            return Err(Error::TooManySessions { limit });
        }
        #[cfg(feature = "redis")]
        if let Some(Durable::Redis(redis)) = &self.inner.durable {
            return Ok(redis.open(registry));
        }
        let token = SessionToken::random();
        Ok(registry.start(token, StoredSession::default(), Role::Alone))
    }

    /// The session with `token`: from memory or, failing that, from the
    /// store. After a restart, this is how a returning tab gets its session
    /// back; with Redis, how a tab finds a session another instance runs.
    pub async fn resume(&self, token: &SessionToken) -> Result<Option<SessionHandle>, StoreError> {
        let registry = &self.inner.registry;
        if let Some(session) = registry.get(token) {
            return Ok(Some(session));
        }
        let store = match &self.inner.durable {
            None => return Ok(None),
            #[cfg(feature = "redis")]
            Some(Durable::Redis(redis)) => return redis.join_session(registry, token).await,
            Some(Durable::Store(store)) => store,
        };
        let (store, key) = (Arc::clone(store), *token);
        let loaded = tokio::task::spawn_blocking(move || store.load(&key))
            .await
            .map_err(StoreError::new)??;
        let Some(bytes) = loaded else {
            return Ok(None);
        };
        let stored = StoredSession::decode(&bytes)?;
        // Another request may have restored it while we read: then that
        // copy is the one.
        Ok(Some(registry.restore(*token, stored, Role::Alone)))
    }

    /// Runs `handler` in the session with `token`, from outside any
    /// handler (a webhook, a timer): [`SessionHandle::emit`] on the session
    /// [`resume`](Self::resume) finds.
    ///
    /// # Errors
    ///
    /// No such session, a store that could not be read, or the session's
    /// refusal.
    pub async fn emit<A: Serialize>(
        &self,
        token: &SessionToken,
        handler: HandlerId<A>,
        args: &A,
    ) -> Result<(), EmitError> {
        let session = self.resume(token).await?.ok_or(EmitError::NoSession)?;
        Ok(session.emit(handler, args)?)
    }

    /// Whether this process has the session in memory now, without looking
    /// in the store.
    pub fn holds(&self, token: &SessionToken) -> bool {
        self.inner.registry.get(token).is_some()
    }

    /// Live sessions in this process.
    pub fn session_count(&self) -> usize {
        self.inner.registry.len()
    }

    /// How many shared states this process holds (see
    /// [`Cx::link`](crate::Cx::link)): one per state and key that a session
    /// links to, freed when nothing has linked to it for the idle TTL.
    pub fn shared_state_count(&self) -> usize {
        self.inner.registry.shared().shared_states.len()
    }

    /// Live sessions and their running background tasks, for monitoring.
    pub fn stats(&self) -> EngineStats {
        self.inner.registry.shared().census.stats()
    }
}

/// Why [`Engine::emit`] could not run an event.
#[derive(Debug, thiserror::Error)]
pub enum EmitError {
    /// No session has this token: it expired, or never was.
    #[error("no session has this token: it expired, or never was")]
    NoSession,
    /// The store could not be read.
    #[error("the session store could not be read: {0}")]
    Store(#[from] StoreError),
    /// The session refused the event.
    #[error(transparent)]
    Refused(#[from] Error),
}
