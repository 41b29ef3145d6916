//! The fault schedule: which faults strike, in what order, where, for how
//! long, and after how much progress, all drawn from one seed.
//!
//! Why by progress and not by the clock: a fault must land in the middle of
//! traffic on any machine, a loaded CI runner as much as an idle laptop. So
//! each fault waits for the clients to deliver a number of batches after
//! the previous fault ended; a slow machine stretches the run, it does not
//! change what happens in it. The seed fixes everything the test decides
//! (the kinds, their order, targets, durations and spacing); what it cannot
//! fix is how the processes interleave, which is what the run explores.
//!
//! Every schedule has each kind of fault at least once, so that one short
//! seed in `make test` covers them all, plus a few more drawn at random.

use std::{fmt, time::Duration};

use rand::{
    Rng, SeedableRng,
    seq::{IndexedRandom, SliceRandom},
};
use rand_chacha::ChaCha8Rng;

/// Faults drawn at random on top of one of each kind.
const EXTRA: usize = 3;
/// Batches delivered between the end of one fault and the next.
const SPACING: std::ops::RangeInclusive<u64> = 5..=30;

/// What a fault does.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    /// `kill -9` of a server, which owns the sessions of its tabs; it is
    /// started again on the same port once it has been down a while.
    KillServer,
    /// `SIGSTOP` of a Redis-backed server for longer than its lease, then
    /// `SIGCONT`: meanwhile another server takes its sessions over, and the
    /// paused one must not overwrite what the new owner saved.
    PauseServer,
    /// `kill -9` of Redis, restarted on the same port from its AOF.
    KillRedis,
    /// A client drops its connection right after sending a batch.
    DropConnection,
    /// SIGTERM of a server, which drains and exits, then a new start.
    GracefulRestart,
}

impl Kind {
    pub const ALL: [Kind; 5] = [
        Kind::KillServer,
        Kind::PauseServer,
        Kind::KillRedis,
        Kind::DropConnection,
        Kind::GracefulRestart,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Kind::KillServer => "server kill -9",
            Kind::PauseServer => "server SIGSTOP past its lease",
            Kind::KillRedis => "redis kill -9",
            Kind::DropConnection => "connection dropped mid-batch",
            Kind::GracefulRestart => "graceful restart",
        }
    }
}

/// What a schedule can strike: the system's parts, by index.
pub struct Shape {
    /// Servers `0..servers`; the first `clustered` of them run on Redis.
    pub servers: usize,
    pub clustered: usize,
    pub clients: usize,
    /// The Redis lease: a pause lasts longer.
    pub lease: Duration,
}

/// One fault.
#[derive(Clone, Debug)]
pub struct Fault {
    /// Batches the clients deliver, after the previous fault ended, before
    /// this one strikes.
    pub after: u64,
    pub kind: Kind,
    /// The server or the client it strikes (none for Redis).
    pub target: usize,
    /// How long the target stays down, or paused, before it comes back.
    pub down: Duration,
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let target = match self.kind {
            Kind::KillRedis => String::new(),
            Kind::DropConnection => format!(" of client {}", self.target),
            _ => format!(" of server {}", self.target),
        };
        write!(
            f,
            "after {} batches: {}{target}, for {} ms",
            self.after,
            self.kind.name(),
            self.down.as_millis()
        )
    }
}

/// The faults of one seed, in order.
pub struct Schedule {
    pub faults: Vec<Fault>,
}

impl Schedule {
    pub fn new(seed: u64, shape: &Shape) -> Self {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut kinds = Kind::ALL.to_vec();
        for _ in 0..EXTRA {
            kinds.push(*Kind::ALL.choose(&mut rng).expect("kinds"));
        }
        kinds.shuffle(&mut rng);
        let faults = kinds
            .into_iter()
            .map(|kind| {
                let millis = |rng: &mut ChaCha8Rng, range: std::ops::Range<u64>| {
                    Duration::from_millis(rng.random_range(range))
                };
                let (target, down) = match kind {
                    Kind::KillServer => (
                        rng.random_range(0..shape.servers),
                        millis(&mut rng, 0..1500),
                    ),
                    Kind::PauseServer => (
                        rng.random_range(0..shape.clustered),
                        shape.lease + millis(&mut rng, 500..2500),
                    ),
                    Kind::KillRedis => (0, millis(&mut rng, 100..2000)),
                    Kind::DropConnection => (rng.random_range(0..shape.clients), Duration::ZERO),
                    Kind::GracefulRestart => {
                        (rng.random_range(0..shape.servers), millis(&mut rng, 0..500))
                    }
                };
                Fault {
                    after: rng.random_range(SPACING),
                    kind,
                    target,
                    down,
                }
            })
            .collect();
        Self { faults }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shape() -> Shape {
        Shape {
            servers: 3,
            clustered: 2,
            clients: 6,
            lease: Duration::from_secs(5),
        }
    }

    /// A failing seed replays only if its schedule is the same every time.
    #[test]
    fn a_seed_gives_one_schedule_with_every_kind() {
        let (a, b) = (Schedule::new(7, &shape()), Schedule::new(7, &shape()));
        let text = |s: &Schedule| s.faults.iter().map(Fault::to_string).collect::<Vec<_>>();
        assert_eq!(text(&a), text(&b));
        assert_ne!(text(&a), text(&Schedule::new(8, &shape())));
        for kind in Kind::ALL {
            assert!(a.faults.iter().any(|fault| fault.kind == kind), "{kind:?}");
        }
        for fault in &a.faults {
            if fault.kind == Kind::PauseServer {
                assert!(fault.target < 2 && fault.down > Duration::from_secs(5));
            }
        }
    }
}
