#!/usr/bin/env bash
# The randomized fault schedule (server/tests/chaos/): two server processes
# on one Redis (AOF, fsync always) and one on the file store, tabs that
# behave like the browser's, and a seeded schedule of faults: kill -9 of a
# server, SIGSTOP of one past its Redis lease, kill -9 of Redis, a
# connection dropped mid-batch, a graceful restart. After each seed it
# checks that every acknowledged event applied exactly once, that every
# tab's copy equals the server's, that versions never went back, and that
# no task ran twice.
#
#   SEED=<n>     the (first) seed; default: a random one, printed first
#   MINUTES=<m>  seeds SEED, SEED+1, ... back to back for m minutes;
#                default: one seed (what `make test` runs, well under a
#                minute once built)
#
# Prints each fault as it strikes, a line per seed and, with MINUTES, the
# totals. Exits non-zero on any violation, naming the seed to replay. Needs
# `redis-server` (scripts/setup.sh installs it).
set -euo pipefail
cd "$(dirname "$0")/.."

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/stateside/target}"
export LEPTOS_OUTPUT_NAME="${LEPTOS_OUTPUT_NAME:-stateside}"
export SEED="${SEED:-}" MINUTES="${MINUTES:-}"
command -v redis-server >/dev/null || { echo "chaos: redis-server is missing (scripts/setup.sh)" >&2; exit 1; }

log=$(mktemp)
trap 'rm -f "$log"' EXIT
cargo test -q -p server --test chaos --no-run >"$log" 2>&1 || { cat "$log" >&2; exit 1; }
# One test, a seed at a time: each kills processes, and they share the cores.
# The fault log streams; the rest of the output is shown if the run fails.
# The pattern is the fault log's; the failure branch below prints the rest.
set +e
cargo test -q -p server --test chaos -- --ignored --nocapture --test-threads=1 2>&1 \
  | tee "$log" | grep --line-buffered -E '^(seed [0-9]+:|  +[0-9.]+s  fault|chaos: )'
status=${PIPESTATUS[0]}
set -e
# On a failure, the rest of the output (panics, cargo's own lines).
[ "$status" -eq 0 ] || grep -v -E '^(seed [0-9]+:|  +[0-9.]+s  fault|chaos: )' "$log" >&2
echo
echo "== chaos summary"
grep '^chaos: ' "$log" | sed 's/^chaos: /  /' || echo "  (no summary: the run failed before one)"
[ "$status" -eq 0 ] && echo "== chaos: no violation" || echo "== chaos: FAILED (replay: SEED=<the seed above> make chaos)" >&2
exit "$status"
