//! The settings every Stateside server takes, as flags that each read an
//! environment variable too, so a binary is configured the same way by
//! hand, by scripts and in CI. An app's server flattens [`Settings`] into
//! its own flags (`#[command(flatten)]`) and gets the store choice, the
//! engine's limits and the shutdown grace without writing them again.
//! Where the site is served comes from Leptos's own `LEPTOS_*` variables.
//!
//! The engine's flags default to [`Config::default()`], where each default
//! is stated once with its reason; `--help` shows them. Durations are
//! `humantime`'s, which reads and prints them as "1h" or "500ms".

use std::{path::PathBuf, str::FromStr, sync::Arc};

use clap::Parser;
use humantime::Duration;
use stateside::{App, Config, Engine, FileStore, RedisStore, StoreError};

/// The flags of a Stateside server; see the module's documentation.
#[derive(Debug, Parser)]
#[command(about = "A Stateside app's server")]
pub struct Settings {
    /// Where sessions live: `memory` (lost on restart), `file:PATH` (an
    /// embedded database that survives restarts and crashes), or
    /// `redis://host:port[/db]` (shared by every server process using it).
    #[arg(long, env = "STATESIDE_STORE", default_value = "memory")]
    pub store: StoreChoice,

    /// Free sessions idle this long (no events, no tab, no task), e.g. "1h".
    #[arg(long, env = "STATESIDE_IDLE_TTL", default_value_t = Config::default().idle_ttl.into())]
    pub idle_ttl: Duration,

    /// Free sessions no tab ever used (no stream, no event) this soon.
    #[arg(long, env = "STATESIDE_UNUSED_TTL", default_value_t = Config::default().unused_ttl.into())]
    pub unused_ttl: Duration,

    /// Cancel the tasks of a session that no tab has listened to this long.
    #[arg(long, env = "STATESIDE_UNWATCHED_TASK_TIMEOUT", default_value_t = Config::default().unwatched_task_timeout.into())]
    pub unwatched_task_timeout: Duration,

    /// The most a session's states may weigh together, as JSON bytes; a
    /// change past it is rolled back with a notice.
    #[arg(long, env = "STATESIDE_MAX_STATE_BYTES", default_value_t = Config::default().max_state_bytes)]
    pub max_state_bytes: usize,

    /// New sessions one client address may open per second, on average.
    #[arg(long, env = "STATESIDE_OPEN_RATE", default_value_t = Config::default().opens_per_second_per_ip)]
    pub open_rate: u32,

    /// ... and in a burst.
    #[arg(long, env = "STATESIDE_OPEN_BURST", default_value_t = Config::default().open_burst_per_ip)]
    pub open_burst: u32,

    /// Streams (sockets and SSE streams) one client address may hold.
    #[arg(long, env = "STATESIDE_MAX_STREAMS_PER_IP", default_value_t = Config::default().max_streams_per_ip)]
    pub max_streams_per_ip: usize,

    /// Streams the process holds in all.
    #[arg(long, env = "STATESIDE_MAX_CONNECTIONS", default_value_t = Config::default().max_connections)]
    pub max_connections: usize,

    /// Proxies whose `X-Forwarded-For` names the client (repeat, or
    /// separate with commas); nobody else's is believed.
    #[arg(
        long = "trusted-proxy",
        env = "STATESIDE_TRUSTED_PROXIES",
        value_delimiter = ','
    )]
    pub trusted_proxies: Vec<std::net::IpAddr>,

    /// Streams (sockets or SSE streams) one session may have open.
    #[arg(long, env = "STATESIDE_MAX_STREAMS", default_value_t = Config::default().max_streams_per_session)]
    pub max_streams: usize,

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

    /// The replay ring's bound in bytes, whatever its count.
    #[arg(long, env = "STATESIDE_REPLAY_RING_BYTES", default_value_t = Config::default().replay_ring_bytes)]
    pub replay_ring_bytes: usize,

    /// The largest request body or socket message accepted, in bytes (and
    /// so the largest event).
    #[arg(long, env = "STATESIDE_MAX_PAYLOAD", default_value_t = Config::default().max_payload)]
    pub max_payload: usize,

    /// The largest file an upload may carry, in bytes.
    #[arg(long, env = "STATESIDE_UPLOAD_MAX_FILE", default_value_t = Config::default().max_upload_file_bytes)]
    pub upload_max_file: u64,

    /// The most one upload request may carry, its files together, in bytes.
    #[arg(long, env = "STATESIDE_UPLOAD_MAX_REQUEST", default_value_t = Config::default().max_upload_request_bytes)]
    pub upload_max_request: u64,

    /// A quiet socket sends a ping this often; a tab silent for three of
    /// these is taken for gone and its socket closed.
    #[arg(long, env = "STATESIDE_KEEPALIVE", default_value_t = Config::default().keepalive.into())]
    pub keepalive: Duration,

    /// The origin browsers reach this app at, e.g. `https://app.example.com`
    /// (repeat the flag, or separate with commas, for several). Only pages
    /// from these may call the protocol; the scheme counts. Needed behind a
    /// proxy that rewrites `Host` or terminates TLS. Unset: the server's
    /// own `http://` origin, from the request's `Host`.
    #[arg(long = "public-origin", env = "STATESIDE_PUBLIC_ORIGIN", value_delimiter = ',', value_parser = public_origin)]
    pub public_origins: Vec<String>,

    /// On SIGTERM, how long running handlers get to finish.
    #[arg(long, env = "STATESIDE_SHUTDOWN_GRACE", default_value = "10s")]
    pub shutdown_grace: Duration,
}

/// An origin as a browser's `Origin` header writes it (`url` serialises it
/// the way browsers do: lowercase, no default port, no path).
fn public_origin(text: &str) -> Result<String, String> {
    let url = url::Url::parse(text).map_err(|error| format!("`{text}`: {error}"))?;
    if !matches!(url.scheme(), "http" | "https") || url.path() != "/" || url.query().is_some() {
        return Err(format!(
            "`{text}`: an origin is `http(s)://host[:port]`, with no path"
        ));
    }
    Ok(url.origin().ascii_serialization())
}

/// The `--store` setting.
#[derive(Clone, Debug)]
pub enum StoreChoice {
    /// Sessions in this process only: lost on a restart.
    Memory,
    /// Sessions in one redb file, which survives restarts and crashes.
    File(PathBuf),
    /// Sessions in Redis, shared by every process that uses it.
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
    /// The flags and environment of this process; on a bad value, or for
    /// `--help`, prints clap's message and exits.
    pub fn from_args() -> Self {
        Self::parse()
    }

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
            unused_ttl: self.unused_ttl.into(),
            unwatched_task_timeout: self.unwatched_task_timeout.into(),
            max_state_bytes: self.max_state_bytes,
            max_streams_per_session: self.max_streams,
            opens_per_second_per_ip: self.open_rate,
            open_burst_per_ip: self.open_burst,
            max_streams_per_ip: self.max_streams_per_ip,
            max_connections: self.max_connections,
            trusted_proxies: self.trusted_proxies.clone(),
            replay_ring_bytes: self.replay_ring_bytes,
            lock_hold_warning: self.lock_warning.into(),
            queue_limit: self.queue_limit,
            replay_ring: self.replay_ring,
            max_tasks_per_session: self.max_tasks,
            max_sessions: self.max_sessions,
            keepalive: self.keepalive.into(),
            max_payload: self.max_payload,
            max_upload_file_bytes: self.upload_max_file,
            max_upload_request_bytes: self.upload_max_request,
            public_origins: self.public_origins.clone(),
            ..Config::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    #[test]
    fn a_store_is_memory_a_file_or_redis_and_anything_else_says_what_it_expects() {
        assert!(matches!("memory".parse(), Ok(StoreChoice::Memory)));
        assert!(
            matches!("file:/tmp/s.redb".parse(), Ok(StoreChoice::File(path)) if path == Path::new("/tmp/s.redb"))
        );
        assert!(
            matches!("redis://h:6379/0".parse(), Ok(StoreChoice::Redis(url)) if url == "redis://h:6379/0")
        );
        for bad in ["", "file:", "memory:", "sqlite:/x"] {
            let error = bad.parse::<StoreChoice>().unwrap_err();
            assert!(
                error.ends_with("expected `memory`, `file:PATH` or `redis://host:port[/db]`"),
                "{bad:?}: {error}"
            );
        }
    }
}
