#!/usr/bin/env bash
# Runs the cargo-fuzz targets in fuzz/ (see fuzz/README.md), installing the
# pinned cargo-fuzz first if it is missing or another version.
#
#   scripts/fuzz.sh                 every target for FUZZ_SECONDS (default 30)
#   scripts/fuzz.sh patch_apply     one target
#   FUZZ_SECONDS=600 scripts/fuzz.sh
#   scripts/fuzz.sh --install       only install cargo-fuzz
#
# A crash leaves its input in fuzz/artifacts/<target>/ and fails the script;
# turn it into a regression test in fuzz/tests/ before fixing it.
set -euo pipefail
cd "$(dirname "$0")/.."

# 0.13.2 is the newest release (`cargo info cargo-fuzz`) and builds on the
# installed toolchains; pinned so every machine fuzzes with the same driver.
CARGO_FUZZ_VERSION=0.13.2
export PATH="$HOME/.cargo/bin:$PATH"
# Its own target dir: sanitizer builds share nothing with the main workspace.
export CARGO_TARGET_DIR="${FUZZ_TARGET_DIR:-$HOME/.cache/stateside/fuzz-target}"

installed=$(cargo fuzz --version 2>/dev/null | awk '{print $2}' || true)
if [ "$installed" != "$CARGO_FUZZ_VERSION" ]; then
  cargo install cargo-fuzz --locked --version "=$CARGO_FUZZ_VERSION"
fi
[ "${1:-}" = --install ] && exit 0

seconds=${FUZZ_SECONDS:-30}
targets=("$@")
[ ${#targets[@]} -eq 0 ] && mapfile -t targets < <(cd fuzz && cargo +nightly fuzz list)

for target in "${targets[@]}"; do
  mkdir -p "fuzz/corpus/$target"
  echo "== $target for ${seconds}s"
  # A dictionary, where there is one, names the tokens the input is made of.
  dict=()
  [ -f "fuzz/$target.dict" ] && dict=("-dict=$target.dict")
  (cd fuzz && cargo +nightly fuzz run "$target" "corpus/$target" -- \
    -max_total_time="$seconds" -timeout=10 -rss_limit_mb=1024 -print_final_stats=1 "${dict[@]}")
done
