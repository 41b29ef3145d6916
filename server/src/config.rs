//! The server's settings: flags, each with an environment variable, so the
//! same binary is configured the same way by hand, by scripts and in CI.
//! Where the site is served comes from Leptos's own `LEPTOS_*` variables.
//!
//! The engine's flags default to [`Config::default()`], where each default
//! is stated once with its reason; `--help` shows them. Durations are
//! `humantime`'s, which reads and prints them as "1h" or "500ms".

use std::{path::PathBuf, str::FromStr, sync::Arc};

use clap::Parser;
use humantime::Duration;
use stateside::{App, Config, Engine, FileStore, RedisStore, StoreError};

#[derive(Debug, Parser)]
#[command(version, about = "The Stateside demo server")]
pub struct Settings {
    /// Where sessions live: `memory` (lost on restart), `file:PATH` (an
    /// embedded database that survives restarts and crashes), or
    /// `redis://host:port[/db]` (shared by every server process using it).
    #[arg(long, env = "STATESIDE_STORE", default_value = "memory")]
    pub store: StoreChoice,

    /// Free sessions idle this long (no events, no tab, no task), e.g. "1h".
    #[arg(long, env = "STATESIDE_IDLE_TTL", default_value_t = Config::default().idle_ttl.into())]
    pub idle_ttl: Duration,

    /// Log a warning, naming the handler, when it holds a session's lock longer.
    #[arg(long, env = "STATESIDE_LOCK_WARNING", default_value_t = Config::default().lock_hold_warning.into())]
    pub lock_warning: Duration,

    /// Events a session may have waiting before it answers "busy".
    #[arg(long, env = "STATESIDE_QUEUE_LIMIT", default_value_t = Config::default().queue_limit)]
    pub queue_limit: usize,

    /// Background tasks one session may run at once.
    #[arg(long, env = "STATESIDE_MAX_TASKS", default_value_t = Config::default().max_tasks_per_session)]
    pub max_tasks: usize,

    /// Sessions one process holds before it refuses new tabs.
    #[arg(long, env = "STATESIDE_MAX_SESSIONS", default_value_t = Config::default().max_sessions)]
    pub max_sessions: usize,

    /// Updates kept per session to replay to a reconnecting tab.
    #[arg(long, env = "STATESIDE_REPLAY_RING", default_value_t = Config::default().replay_ring)]
    pub replay_ring: usize,

    /// The largest request body or socket message accepted, in bytes (and
    /// so the largest event).
    #[arg(long, env = "STATESIDE_MAX_PAYLOAD", default_value_t = Config::default().max_payload)]
    pub max_payload: usize,

    /// A quiet socket sends a ping this often; a tab silent for three of
    /// these is taken for gone and its socket closed.
    #[arg(long, env = "STATESIDE_KEEPALIVE", default_value_t = Config::default().keepalive.into())]
    pub keepalive: Duration,

    /// On SIGTERM, how long running handlers get to finish.
    #[arg(long, env = "STATESIDE_SHUTDOWN_GRACE", default_value = "10s")]
    pub shutdown_grace: Duration,
}

/// The `--store` setting.
#[derive(Clone, Debug)]
pub enum StoreChoice {
    Memory,
    File(PathBuf),
    Redis(String),
}

impl FromStr for StoreChoice {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        match text.split_once(':') {
            None if text == "memory" => Ok(Self::Memory),
            Some(("file", path)) if !path.is_empty() => Ok(Self::File(path.into())),
            Some(("redis", _)) => Ok(Self::Redis(text.to_owned())),
            _ => Err(format!(
                "`{text}`: expected `memory`, `file:PATH` or `redis://host:port[/db]`"
            )),
        }
    }
}

impl Settings {
    /// The engine for `app`, on the chosen store.
    pub async fn engine(&self, app: App) -> Result<Engine, StoreError> {
        let config = self.engine_config();
        Ok(match &self.store {
            StoreChoice::Memory => Engine::new(app, config),
            StoreChoice::File(path) => {
                Engine::with_store(app, config, Arc::new(FileStore::open(path)?))
            }
            StoreChoice::Redis(url) => {
                Engine::with_redis(app, config, RedisStore::connect(url).await?)
            }
        })
    }

    fn engine_config(&self) -> Config {
        Config {
            idle_ttl: self.idle_ttl.into(),
            lock_hold_warning: self.lock_warning.into(),
            queue_limit: self.queue_limit,
            replay_ring: self.replay_ring,
            max_tasks_per_session: self.max_tasks,
            max_sessions: self.max_sessions,
            keepalive: self.keepalive.into(),
            max_payload: self.max_payload,
            ..Config::default()
        }
    }
}
