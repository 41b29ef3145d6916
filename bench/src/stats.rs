//! Latency samples and the CPU and wall-clock meter around a workload.

use std::time::Duration;

use tokio::time::Instant;

use crate::process::{Server, own_cpu_seconds};

/// Latencies of one workload, in milliseconds.
#[derive(Default)]
pub struct Samples(Vec<f64>);

impl Samples {
    pub fn push(&mut self, latency: Duration) {
        self.0.push(latency.as_secs_f64() * 1000.0);
    }

    pub fn extend(&mut self, other: Samples) {
        self.0.extend(other.0);
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Nearest-rank percentile, the same rule as the anchor's `bench.py`.
    pub fn percentile(&self, p: f64) -> f64 {
        if self.0.is_empty() {
            return f64::NAN;
        }
        let mut sorted = self.0.clone();
        sorted.sort_by(f64::total_cmp);
        let n = sorted.len() as f64;
        let rank = ((p / 100.0 * n + 0.5).round_ties_even() as usize).clamp(1, sorted.len());
        sorted[rank - 1]
    }

    pub fn max(&self) -> f64 {
        self.0.iter().copied().fold(f64::NAN, f64::max)
    }
}

/// Wall time and CPU (server and load generator) over a block of work.
pub struct Meter {
    wall: Instant,
    server_cpu: f64,
    client_cpu: f64,
}

pub struct Metered {
    pub wall: Duration,
    pub server_cpu_s: f64,
    pub client_cpu_s: f64,
}

impl Meter {
    pub fn start(server: &Server) -> Self {
        Self {
            wall: Instant::now(),
            server_cpu: server.cpu_seconds(),
            client_cpu: own_cpu_seconds(),
        }
    }

    pub fn stop(self, server: &Server) -> Metered {
        Metered {
            wall: self.wall.elapsed(),
            server_cpu_s: server.cpu_seconds() - self.server_cpu,
            client_cpu_s: own_cpu_seconds() - self.client_cpu,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_match_bench_py() {
        let mut samples = Samples::default();
        for ms in 1..=100 {
            samples.push(Duration::from_millis(ms));
        }
        // bench.py: k = round(p/100*n + 0.5) - 1, with Python's
        // round-half-to-even, on the sorted list.
        assert_eq!(samples.percentile(50.0), 50.0);
        assert_eq!(samples.percentile(99.0), 100.0);
        assert_eq!(samples.max(), 100.0);
    }
}
