#!/usr/bin/env bash
# Serves the site that `cargo leptos build` made and runs the Playwright tests
# against it. The server gets a free port, so a `make run` on :3000 does not
# collide, and it is stopped whatever the tests do.
set -euo pipefail
cd "$(dirname "$0")/.."

# cargo-leptos writes the binary under the cargo target dir and the site under
# site-root, which Cargo.toml gives relative to the workspace.
# STATESIDE_PROFILE=release serves the release build (`make bench`).
server=$(realpath -m "${CARGO_TARGET_DIR:-target}/${STATESIDE_PROFILE:-debug}/server")
site_root="$PWD/target/site"
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
url="http://127.0.0.1:$port"
log="$PWD/target/e2e-server.log"
# What /files saves during the run, removed with the server.
uploads=$(mktemp -d)

STATESIDE_UPLOAD_DIR="$uploads" \
LEPTOS_SITE_ROOT="$site_root" LEPTOS_SITE_PKG_DIR=pkg LEPTOS_SITE_ADDR="127.0.0.1:$port" \
  "$server" >"$log" 2>&1 &
server_pid=$!
trap 'kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; rm -rf "$uploads"' EXIT

for _ in $(seq 100); do
  curl -fsS "$url/healthz" >/dev/null 2>&1 && break
  if ! kill -0 "$server_pid" 2>/dev/null; then
    echo "server exited before answering; its log:" >&2
    cat "$log" >&2
    exit 1
  fi
  sleep 0.2
done
curl -fsS "$url/healthz" >/dev/null || { echo "server not ready at $url" >&2; cat "$log" >&2; exit 1; }

cd end2end
STATESIDE_URL="$url" STATESIDE_SERVER_BIN="$server" STATESIDE_SITE_ROOT="$site_root" \
  npx playwright test "$@"
