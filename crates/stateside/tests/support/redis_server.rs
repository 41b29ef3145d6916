//! A throwaway `redis-server` for tests: its own free port and directory,
//! no persistence unless asked for, killed when dropped. Tests never skip without one: a
//! missing binary is a failure that says how to install it.

use std::{
    net::{TcpListener, TcpStream},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

pub struct RedisServer {
    pub port: u16,
    dir: tempfile::TempDir,
    child: Option<Child>,
    /// With an append-only file, so that a restart keeps the data.
    durable: bool,
    /// More `redis-server` arguments, e.g. ACL users.
    extra: Vec<String>,
}

impl RedisServer {
    pub fn start() -> Self {
        Self::launched(false)
    }

    /// Writes every command to an append-only file before answering it, so
    /// a `kill -9` loses nothing it acknowledged: [`restart`](Self::restart)
    /// brings the data back.
    pub fn start_durable() -> Self {
        Self::launched(true)
    }

    /// With more `redis-server` arguments, e.g. `["--user", "app on >pw ~* &* +@all"]`.
    pub fn start_with(extra: &[&str]) -> Self {
        let mut server = Self::unlaunched(false);
        server.extra = extra.iter().map(|arg| arg.to_string()).collect();
        server.launch();
        server
    }

    fn launched(durable: bool) -> Self {
        let mut server = Self::unlaunched(durable);
        server.launch();
        server
    }

    fn unlaunched(durable: bool) -> Self {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        Self {
            port,
            dir: tempfile::tempdir().unwrap(),
            child: None,
            durable,
            extra: Vec::new(),
        }
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// Kills the server (`kill -9`; its data is gone unless it is durable)
    /// and starts it again on the same port.
    pub fn restart(&mut self) {
        self.kill();
        self.launch();
    }

    /// Starts the server (again, after [`kill`](Self::kill)).
    pub fn launch(&mut self) {
        let child = Command::new("redis-server")
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly"])
            .arg(if self.durable { "yes" } else { "no" })
            .arg("--dir")
            .arg(self.dir.path())
            .args(&self.extra)
            .stdout(Stdio::null())
            .spawn()
            .unwrap_or_else(|error| {
                panic!(
                    "cannot start `redis-server` ({error}); the Redis tests need it: \
                     `apt-get install redis-server` (scripts/setup.sh does)"
                )
            });
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(Instant::now() < deadline, "redis-server did not start");
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// `kill -9`.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.kill();
    }
}
