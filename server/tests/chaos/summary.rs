//! What a run reports, per seed and in total: the faults done per kind, the
//! events acknowledged, the violations. One line each, prefixed `chaos:`,
//! which `scripts/chaos.sh` collects as its summary.

use std::{fmt, time::Duration};

use crate::schedule::Kind;

#[derive(Default)]
pub struct Tally {
    pub seeds: u32,
    /// Faults done, per kind, in [`Kind::ALL`]'s order.
    pub faults: [u32; Kind::ALL.len()],
    pub acked: u64,
    pub resumes: u64,
    pub violations: usize,
    pub elapsed: Duration,
}

impl Tally {
    pub fn fault(&mut self, kind: Kind) {
        let index = Kind::ALL.iter().position(|k| *k == kind).expect("a kind");
        self.faults[index] += 1;
    }

    pub fn add(&mut self, other: &Tally) {
        self.seeds += other.seeds;
        for (mine, theirs) in self.faults.iter_mut().zip(other.faults) {
            *mine += theirs;
        }
        self.acked += other.acked;
        self.resumes += other.resumes;
        self.violations += other.violations;
        self.elapsed += other.elapsed;
    }
}

impl fmt::Display for Tally {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let faults: Vec<String> = Kind::ALL
            .iter()
            .zip(self.faults)
            .map(|(kind, count)| format!("{} {count}", kind.name()))
            .collect();
        write!(
            f,
            "faults: {}; events acknowledged {}; client reconnections {}; violations {}; {:.1}s",
            faults.join(", "),
            self.acked,
            self.resumes,
            self.violations,
            self.elapsed.as_secs_f64()
        )
    }
}
