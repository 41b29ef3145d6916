#!/usr/bin/env bash
# Chaos run (server/tests/chaos.rs): `kill -9` the server under the file
# store, and Redis under the Redis store, in the middle of bursts of events
# and background tasks; then checks that every acknowledged event is kept,
# that the clients resume by themselves, and that the final state is exact.
#
# Exits non-zero on any violation. Prints one summary line per store. Needs
# `redis-server` (scripts/setup.sh installs it). About ten seconds once built.
set -euo pipefail
cd "$(dirname "$0")/.."

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/stateside/target}"
export LEPTOS_OUTPUT_NAME="${LEPTOS_OUTPUT_NAME:-stateside}"
command -v redis-server >/dev/null || { echo "chaos: redis-server is missing (scripts/setup.sh)" >&2; exit 1; }

log=$(mktemp)
trap 'rm -f "$log"' EXIT
# One test at a time: each kills processes, and they share the two cores.
if cargo test -p server --test chaos -- --ignored --nocapture --test-threads=1 >"$log" 2>&1; then
  status=0
else
  status=$?
  cat "$log" >&2
fi
echo
echo "== chaos summary"
# The lines follow libtest's "test name ... " on the same line.
grep -o 'chaos: .*' "$log" | sed 's/^chaos: /  /' || echo "  (no summary: the run failed before one)"
[ "$status" -eq 0 ] && echo "== chaos: no violation" || echo "== chaos: FAILED" >&2
exit "$status"
