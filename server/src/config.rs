//! The demo server's flags: every Stateside server's (the store, the
//! engine's limits, the shutdown grace: [`stateside_leptos::Settings`]) and
//! the one only the demo has.

use clap::Parser;

/// Not named `Settings`: clap names each struct's argument group after it,
/// and the flattened one already has that name.
#[derive(Debug, Parser)]
#[command(version, about = "The Stateside demo server")]
pub struct Flags {
    #[command(flatten)]
    pub stateside: stateside_leptos::Settings,

    /// Also serve the benchmark's handlers (`bench/...`, see `app::bench`),
    /// for `make bench` and the tests. Off in production: they exist to
    /// load the server, and any client could call them.
    #[arg(long, env = "STATESIDE_BENCH_HANDLERS")]
    pub bench_handlers: bool,
}
