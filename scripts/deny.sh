#!/usr/bin/env bash
# `cargo deny check` with deny.toml: licenses, bans and sources always;
# advisories against the RustSec database when this machine has a copy.
#
# This machine reaches only package registries, and the advisory database is
# a git repository on GitHub, so cargo-deny cannot fetch it here. Rather than
# skip advisories quietly (or fail every run for want of a network), it runs
# them offline against whatever copy is on disk, says how old that copy is,
# and when there is none says so loudly, with how to put one there.
set -euo pipefail
cd "$(dirname "$0")/.."

# `--offline` below keeps cargo-deny off GitHub, but then cargo metadata can
# only read crates already downloaded: on a fresh machine this runs before
# any build has fetched them, so fetch them first (crates.io is reachable).
cargo fetch --locked --quiet

# The duplicate-version warnings name the crates; their trees are noise here.
cargo deny --offline check --hide-inclusion-graph licenses bans sources

# Where cargo-deny keeps the database for deny.toml's `db-urls`.
db="${CARGO_HOME:-$HOME/.cargo}/advisory-dbs/advisory-db-3157b0e258782691"
if [ -d "$db/crates" ]; then
  echo "==> advisories, against the RustSec database of $(git -C "$db" log -1 --format=%cs)"
  cargo deny --offline check advisories
else
  cat >&2 <<WARN

################################################################################
##  ADVISORIES NOT CHECKED: no RustSec advisory database on this machine.
##  It lives at github.com/rustsec/advisory-db, which this machine cannot
##  reach. On a machine that can, run \`cargo deny fetch\`, or clone it to
##    $db
##  and run scripts/deny.sh again. Licenses, bans and sources were checked.
################################################################################

WARN
fi
