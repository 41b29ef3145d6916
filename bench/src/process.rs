//! The server under test as a child process, and what /proc says about it:
//! CPU time (utime + stime, as `ps` counts it) and resident memory.

use std::{
    net::{SocketAddr, TcpListener},
    path::Path,
    process::Stdio,
    time::Duration,
};

use anyhow::{Context, Result, bail};
use tokio::process::{Child, Command};

use crate::conn::Conn;

/// Clock ticks per second in /proc: USER_HZ, 100 on every Linux ABI.
const TICKS_PER_SECOND: f64 = 100.0;

pub struct Server {
    child: Child,
    pub pid: u32,
    pub addr: SocketAddr,
}

impl Server {
    /// Starts `program` on a free loopback port, given to it as
    /// `LEPTOS_SITE_ADDR`, and waits until it answers `/healthz`.
    pub async fn start(program: &Path, env: &[(&str, String)]) -> Result<Self> {
        let addr = free_port()?;
        let log = std::fs::File::create(std::env::temp_dir().join(format!(
            "stateside-bench-{}.log",
            program.file_name().map_or("server".into(), |n| n.to_string_lossy())
        )))?;
        let child = Command::new(program)
            .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
            .env("LEPTOS_SITE_ADDR", addr.to_string())
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("starting {}", program.display()))?;
        let pid = child.id().context("child has a pid")?;
        let mut server = Self { child, pid, addr };
        for _ in 0..200 {
            if let Some(status) = server.child.try_wait()? {
                bail!("{} exited at start: {status}", program.display());
            }
            if let Ok(mut conn) = Conn::open(addr).await
                && conn.get("/healthz").await.is_ok()
            {
                return Ok(server);
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        bail!("{} did not answer /healthz on {addr}", program.display())
    }

    /// CPU seconds the process has used, user plus system.
    pub fn cpu_seconds(&self) -> f64 {
        cpu_seconds(&format!("/proc/{}/stat", self.pid))
    }

    pub fn rss_mib(&self) -> f64 {
        rss_mib(&format!("/proc/{}/status", self.pid))
    }

    pub async fn stop(mut self) {
        let _ = self.child.kill().await;
    }
}

/// CPU seconds of this load generator so far.
pub fn own_cpu_seconds() -> f64 {
    cpu_seconds("/proc/self/stat")
}

fn rss_mib(status_path: &str) -> f64 {
    let status = std::fs::read_to_string(status_path).unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| {
            rest.trim()
                .trim_end_matches("kB")
                .trim()
                .parse::<f64>()
                .ok()
        })
        .map_or(f64::NAN, |kib| kib / 1024.0)
}

fn cpu_seconds(stat_path: &str) -> f64 {
    let stat = std::fs::read_to_string(stat_path).unwrap_or_default();
    // Fields after the `(comm)`, which may itself contain spaces: state is
    // field 3, utime 14 and stime 15.
    let rest = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| fields.get(i).and_then(|f| f.parse::<f64>().ok());
    match (ticks(11), ticks(12)) {
        (Some(user), Some(system)) => (user + system) / TICKS_PER_SECOND,
        _ => f64::NAN,
    }
}

fn free_port() -> Result<SocketAddr> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?)
}
