//! The system under test, as real processes: one Redis with its AOF fsynced
//! on every write, [`CLUSTERED`] server processes sharing it, and one server
//! on the file store. The faults are done to them with real signals.
//!
//! Why real processes: the promises are about what survives a process
//! dying, pausing or draining, between processes that only share Redis. An
//! in-process double would share memory and a clock, and could not be
//! SIGSTOPped.
//!
//! Servers are numbered `0..CLUSTERED` on Redis, then the file store one.
//! Every restart reuses the port, the store and (for Redis) the AOF
//! directory, as an orchestrator restarting a container would. Each
//! server's log (all its lives) goes to `server-<n>.log` in a directory
//! that is kept when a seed fails.

use std::{process::Command, time::Duration};

use tokio::time::sleep;

use crate::{
    redis_server::RedisServer,
    schedule::{Fault, Kind, Shape},
    support::{Address, Instance},
};

/// Servers on Redis; two is the smallest number where one can take over
/// from another.
pub const CLUSTERED: usize = 2;
/// The server's Redis lease: `RedisStore`'s default, which the server has
/// no flag for.
pub const LEASE: Duration = Duration::from_secs(5);

pub struct System {
    redis: RedisServer,
    servers: Vec<Instance>,
    /// The file store, and the servers' logs.
    files: tempfile::TempDir,
}

impl System {
    pub async fn start() -> Self {
        let redis = tokio::task::block_in_place(|| {
            let redis = RedisServer::start_durable();
            fsync_always(&redis);
            redis
        });
        let files = tempfile::tempdir().unwrap();
        let on_redis = ["--store".to_owned(), redis.url()];
        let on_file = [
            "--store".to_owned(),
            format!("file:{}", files.path().join("sessions.redb").display()),
        ];
        let mut servers = Vec::new();
        for args in std::iter::repeat_n(&on_redis, CLUSTERED).chain([&on_file]) {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            let log = files.path().join(format!("server-{}.log", servers.len()));
            let env = [("RUST_LOG", "info")];
            servers.push(Instance::start_logged(&args, &env, Some(&log)).await);
        }
        Self {
            redis,
            servers,
            files,
        }
    }

    /// Stops every process, and keeps the servers' logs: where they are.
    pub fn keep_logs(self) -> std::path::PathBuf {
        self.files.keep()
    }

    pub fn shape(&self, clients: usize) -> Shape {
        Shape {
            servers: self.servers.len(),
            clustered: CLUSTERED,
            clients,
            lease: LEASE,
        }
    }

    /// Where a tab on Redis may connect: any clustered server.
    pub fn cluster(&self) -> Vec<Address> {
        self.servers[..CLUSTERED]
            .iter()
            .map(|server| server.address.clone())
            .collect()
    }

    /// Where a tab on the file store connects.
    pub fn file(&self) -> Vec<Address> {
        vec![self.servers[CLUSTERED].address.clone()]
    }

    /// Does `fault` to the processes, and brings them back. A dropped
    /// connection is the client's to do, not the system's.
    pub async fn strike(&mut self, fault: &Fault) {
        let server = &mut self.servers[fault.target];
        match fault.kind {
            Kind::KillServer => {
                server.kill();
                sleep(fault.down).await;
                server.restart().await;
            }
            Kind::PauseServer => {
                server.signal("STOP");
                sleep(fault.down).await;
                server.signal("CONT");
            }
            Kind::GracefulRestart => {
                server.terminate().await;
                sleep(fault.down).await;
                server.restart().await;
            }
            Kind::KillRedis => {
                self.redis.kill();
                sleep(fault.down).await;
                self.relaunch_redis();
            }
            Kind::DropConnection => {}
        }
    }

    /// `kill -9` of every process at once, then all started again: what is
    /// left is only what the stores kept.
    pub async fn crash_and_restart(&mut self) {
        self.redis.kill();
        for server in &mut self.servers {
            server.kill();
        }
        self.relaunch_redis();
        for server in &mut self.servers {
            server.restart().await;
        }
    }

    fn relaunch_redis(&mut self) {
        tokio::task::block_in_place(|| {
            self.redis.launch();
            fsync_always(&self.redis);
        });
    }
}

/// `appendfsync always`: Redis answers a write only once its AOF is on
/// disk, so an acknowledged event survives even the machine (the shared
/// `RedisServer` keeps Redis's default of once a second). Retried while
/// Redis is still loading its AOF.
fn fsync_always(redis: &RedisServer) {
    for _ in 0..100 {
        let answer = Command::new("redis-cli")
            .args(["-p", &redis.port.to_string()])
            .args(["config", "set", "appendfsync", "always"])
            .output()
            .expect("redis-cli runs (it comes with redis-server)");
        if String::from_utf8_lossy(&answer.stdout).trim() == "OK" {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("redis did not take `appendfsync always`");
}
