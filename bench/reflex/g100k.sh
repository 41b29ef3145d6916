#!/usr/bin/env bash
# Reflex's side of g100k (bench/README.md): a fresh backend of the anchor's
# unchanged benchapp, with the setters Reflex writes for every var turned on
# (REFLEX_STATE_AUTO_SETTERS) and room for one 1.3 MB event (Reflex's socket
# takes 1 MB by default), so that g100k.py can fill its list with one
# `set_items`; then the timed appends. Writes $OUT/g100k.json.
#
#   REFLEX_ANCHOR=../shared/anchors/reflex OUT=bench/results/<date>/reflex bench/reflex/g100k.sh [--appends N]
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
ANCHOR=$(cd "${REFLEX_ANCHOR:?the anchor folder, e.g. ../shared/anchors/reflex}" && pwd)
BENCH=${REFLEX_ANCHOR_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/reflex-anchor}
OUT=${OUT:?a folder for g100k.json}
mkdir -p "$OUT"
"$ANCHOR/scripts/setup.sh"
export REFLEX_STATE_AUTO_SETTERS=true
export REFLEX_SOCKET_MAX_HTTP_BUFFER_SIZE=16000000
trap '"$ANCHOR/scripts/server.sh" stop' EXIT
"$ANCHOR/scripts/server.sh" start
nice -n "${NICE:-0}" "$BENCH/venv/bin/python" "$HERE/g100k.py" --anchor "$ANCHOR" \
  --json-out "$OUT/g100k.json" "$@" | tee "$OUT/g100k.txt"
