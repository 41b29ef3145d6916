//! Stateside's load generator. It starts the real release server and the
//! bare echo (the floor), speaks the real protocol to them over loopback,
//! and runs the Reflex anchor's workloads a to g with the same counts, so the
//! two backends' figures come from one machine in one sitting.
//!
//! - `run`: the floor, then a to g, then f on a fresh server, on each
//!   transport (the websocket, then POST + SSE); JSON rows out.
//! - `scale`: 10,000 sessions at one event a second. (Its companion, 10,000
//!   background tasks in one engine, is `cargo bench -p stateside --bench
//!   tasks`.)
//! - `report`: the side-by-side markdown table from both backends' rows.

mod client;
mod conn;
mod fallback;
mod floor;
mod hostile;
mod process;
mod report;
mod scale;
mod socket;
mod sse;
mod stats;
mod transport;
mod view;
mod workloads;

use std::{
    path::{Path, PathBuf},
    time::Duration,
};

use anyhow::{Result, bail};
use clap::{Parser, Subcommand};
use serde_json::Value;

use crate::{
    process::Server,
    transport::Transport,
    workloads::{Counts, Foreground},
};

#[derive(Parser)]
#[command(about = "Load generator for Stateside's server, beside the Reflex anchor")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// The floor and workloads a to g.
    Run {
        #[command(flatten)]
        binaries: Binaries,
        /// Small counts, for CI: everything runs, exactness is checked.
        #[arg(long)]
        smoke: bool,
        /// Which workloads, of a,b,c,d,e,f,g,g100k,h (g100k: appends to a
        /// 100,000-item list; h: a hostile neighbour).
        #[arg(long, default_value = "a,b,c,d,e,f,g,g100k,h")]
        tests: String,
        /// Which transports the workloads run on.
        #[arg(long, value_enum, value_delimiter = ',', default_value = "socket,http")]
        transports: Vec<Transport>,
        /// The idle TTL the server gets for f, whose sessions must expire.
        #[arg(long, default_value = "5s", value_parser = parse_seconds)]
        idle_ttl: Duration,
        /// Where to write the rows as JSON.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// The scale run.
    Scale {
        #[command(flatten)]
        binaries: Binaries,
        #[arg(long, default_value_t = 10_000)]
        sessions: usize,
        /// How long the scale run lasts.
        #[arg(long, default_value = "60", value_parser = parse_seconds)]
        seconds: Duration,
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Writes the side-by-side markdown from Reflex's and our rows.
    Report(report::Inputs),
}

#[derive(clap::Args)]
struct Binaries {
    /// The server binary (release); by default beside this one.
    #[arg(long)]
    server: Option<PathBuf>,
    /// The site cargo-leptos built, for the server's LEPTOS_SITE_ROOT.
    #[arg(long, default_value = "target/site")]
    site_root: PathBuf,
}

impl Binaries {
    fn sibling(name: &str) -> Result<PathBuf> {
        let exe = std::env::current_exe()?;
        Ok(exe.with_file_name(name))
    }

    fn server(&self) -> Result<PathBuf> {
        self.server
            .clone()
            .map_or_else(|| Self::sibling("server"), Ok)
    }

    /// Starts the Stateside server, with `idle_ttl` if given, and the
    /// `overrides` of its environment.
    async fn start_server(
        &self,
        idle_ttl: Option<Duration>,
        overrides: &[(&str, &str)],
    ) -> Result<Server> {
        let site_root = std::path::absolute(&self.site_root)?;
        if !site_root.join("pkg").is_dir() {
            bail!(
                "no site at {}: run `cargo leptos build --release` first",
                site_root.display()
            );
        }
        let mut env = vec![
            ("LEPTOS_SITE_ROOT", site_root.display().to_string()),
            ("LEPTOS_SITE_PKG_DIR", "pkg".to_owned()),
            ("LEPTOS_OUTPUT_NAME", "stateside".to_owned()),
            // The server's own default: what a deployment logs.
            ("RUST_LOG", "info".to_owned()),
            // The workloads' handlers, off in a real deployment.
            ("STATESIDE_BENCH_HANDLERS", "true".to_owned()),
            // One load generator stands for thousands of tabs, so the
            // limits per client address would count them all as one.
            ("STATESIDE_OPEN_RATE", "1000000".to_owned()),
            ("STATESIDE_OPEN_BURST", "1000000".to_owned()),
            ("STATESIDE_MAX_STREAMS_PER_IP", "1000000".to_owned()),
        ];
        if let Some(ttl) = idle_ttl {
            env.push(("STATESIDE_IDLE_TTL", format!("{}ms", ttl.as_millis())));
        }
        // Later entries win.
        env.extend(
            overrides
                .iter()
                .map(|(key, value)| (*key, value.to_string())),
        );
        Server::start(&self.server()?, &env).await
    }

    async fn start_echo(&self) -> Result<Server> {
        Server::start(&Self::sibling("echo")?, &[]).await
    }
}

fn parse_seconds(text: &str) -> Result<Duration, String> {
    let seconds = text.trim_end_matches('s');
    seconds
        .parse::<f64>()
        .map(Duration::from_secs_f64)
        .map_err(|error| format!("{text}: {error}"))
}

fn main() -> Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::Report(inputs) => report::write(&inputs),
        Command::Scale {
            binaries,
            sessions,
            seconds,
            out,
        } => {
            let row = client_runtime()?.block_on(async {
                let server = binaries.start_server(None, &[]).await?;
                let row = scale::sessions(&server, sessions, seconds).await;
                server.stop().await;
                row
            })?;
            print_row(&row);
            save(out.as_deref(), &Value::Array(vec![row]))
        }
        Command::Run {
            binaries,
            smoke,
            tests,
            transports,
            idle_ttl,
            out,
        } => {
            let counts = if smoke {
                Counts::smoke()
            } else {
                Counts::full()
            };
            let plan = Plan {
                counts,
                tests,
                transports,
                ttl: idle_ttl,
            };
            let rows = client_runtime()?.block_on(run(&binaries, &plan))?;
            report::print_table(&rows);
            let inexact: Vec<String> = rows
                .iter()
                .filter(|row| row["exact"] != Value::Bool(true))
                .map(|row| row["test"].to_string())
                .collect();
            save(out.as_deref(), &Value::Array(rows))?;
            if !inexact.is_empty() {
                bail!("inexact: {inexact:?}");
            }
            Ok(())
        }
    }
}

/// The load generator runs on one thread, leaving the other core to the
/// server, as the anchor's single-threaded Python client does.
fn client_runtime() -> Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?)
}

/// What `run` does.
struct Plan {
    counts: Counts,
    /// Which workloads, as letters.
    tests: String,
    transports: Vec<Transport>,
    /// The idle TTL for f.
    ttl: Duration,
}

impl Plan {
    /// Whether `--tests` names the workload `test` ("a", ..., "g100k").
    fn wants(&self, test: &str) -> bool {
        self.tests.split(',').any(|t| t.trim() == test)
    }
}

/// The most a session's states may weigh on the server of workloads a to
/// g100k: g100k's list of 100,000 items is about 1.3 MB of JSON, over the
/// default 1 MiB.
const BIG_LIST_STATE_BYTES: &str = "8388608";

async fn run(binaries: &Binaries, plan: &Plan) -> Result<Vec<Value>> {
    let counts = &plan.counts;
    let mut rows = Vec::new();
    let mut record = |row: Value| {
        print_row(&row);
        rows.push(row);
    };

    let echo = binaries.start_echo().await?;
    for row in floor::measure(&echo, counts.rt, counts.n, counts.mem_sessions).await? {
        record(row);
    }
    echo.stop().await;

    if ["a", "b", "c", "d", "e", "g", "g100k"]
        .iter()
        .any(|test| plan.wants(test))
    {
        let overrides: &[(&str, &str)] = if plan.wants("g100k") {
            &[("STATESIDE_MAX_STATE_BYTES", BIG_LIST_STATE_BYTES)]
        } else {
            &[]
        };
        let server = binaries.start_server(None, overrides).await?;
        for &transport in &plan.transports {
            workloads::warmup(transport, server.addr).await?;
            let mut record = |mut row: Value| {
                row["server_rss_mib"] = server.rss_mib().into();
                record(transport.tag(row));
            };
            run_on(&server, transport, plan, &mut record).await?;
        }
        server.stop().await;
    }
    if plan.wants("f") {
        for &transport in &plan.transports {
            let server = binaries.start_server(Some(plan.ttl), &[]).await?;
            let (n, batch) = (counts.mem_sessions, counts.mem_batch);
            let row = workloads::memory(&server, transport, n, batch, plan.ttl).await?;
            record(transport.tag(row));
            server.stop().await;
        }
    }
    if plan.wants("h") {
        let server = binaries.start_server(None, &hostile::SERVER_ENV).await?;
        workloads::warmup(Transport::Socket, server.addr).await?;
        let (clients, each) = (counts.clients, counts.per_client);
        let row = hostile::neighbour_run(&server, clients, each).await?;
        record(Transport::Socket.tag(row));
        server.stop().await;
    }
    Ok(rows)
}

/// Workloads a to e, g and g100k on one transport, against one server.
async fn run_on(
    server: &Server,
    transport: Transport,
    plan: &Plan,
    record: &mut impl FnMut(Value),
) -> Result<()> {
    let counts = &plan.counts;
    if plan.wants("a") {
        record(workloads::pipelined(server, transport, counts.n, false).await?);
        record(workloads::pipelined(server, transport, counts.n, true).await?);
    }
    if plan.wants("b") {
        record(workloads::round_trips(server, transport, counts.rt).await?);
    }
    if plan.wants("c") {
        let (clients, each) = (counts.clients, counts.per_client);
        record(workloads::many_sessions(server, transport, clients, each).await?);
    }
    if plan.wants("d") {
        for foreground in [
            Foreground::None,
            Foreground::SameSession,
            Foreground::OtherSession,
        ] {
            record(workloads::background(server, transport, counts, foreground).await?);
        }
    }
    if plan.wants("e") {
        record(workloads::after_slow(server, transport, counts.slow_ms, false).await?);
        record(workloads::after_slow(server, transport, counts.slow_ms, true).await?);
    }
    if plan.wants("g") {
        record(workloads::list_append(server, transport, counts.items).await?);
    }
    if plan.wants("g100k") {
        let (size, appends) = (counts.big_list, counts.big_appends);
        record(workloads::list_append_at(server, transport, size, appends).await?);
    }
    Ok(())
}

fn print_row(row: &Value) {
    println!("{row}");
}

fn save(path: Option<&Path>, rows: &Value) -> Result<()> {
    if let Some(path) = path {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        std::fs::write(path, serde_json::to_string_pretty(rows)?)?;
    }
    Ok(())
}
