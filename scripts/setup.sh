#!/usr/bin/env bash
# Installs what building and testing Stateside needs. Each step runs only when
# its tool is missing or at the wrong version, so a second run takes seconds.
# Versions are pinned here or in lockfiles: cargo-leptos takes wasm-bindgen
# and wasm-opt from PATH without checking their versions.
set -euo pipefail
cd "$(dirname "$0")/.."

# 0.3.11 needs rustc 1.96 when installed --locked; 0.3.10 builds on 1.95.
# --debug: cargo-leptos's own speed hardly matters, its compile time does.
CARGO_LEPTOS_VERSION=0.3.10
# scripts/deny.sh; needs rustc 1.88. --debug for the same reason (about
# 3 minutes here, and a check takes seconds all the same).
CARGO_DENY_VERSION=0.20.2

step() { printf '==> %s\n' "$*"; }

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  step "adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
fi

# nginx: server/tests/proxy.rs runs deploy/nginx.conf in front of the server.
if [ ! -x /usr/bin/chromium ] || ! command -v redis-server >/dev/null || [ ! -x /usr/sbin/nginx ]; then
  step "installing chromium, redis-server and nginx"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo=sudo
  export DEBIAN_FRONTEND=noninteractive
  apt_install() { $sudo apt-get install -y -q chromium redis-server nginx; }
  apt_install || { $sudo apt-get update -q && apt_install; }
fi

# The CLI must match the wasm-bindgen library exactly, so its version comes
# from Cargo.lock. No --locked: its lockfile wants a webpki-roots version the
# registry lacks.
[ -f Cargo.lock ] || cargo generate-lockfile
bindgen_version=$(awk '$0 == "name = \"wasm-bindgen\"" { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock)
if [ "$(wasm-bindgen --version 2>/dev/null)" != "wasm-bindgen $bindgen_version" ]; then
  step "installing wasm-bindgen-cli $bindgen_version"
  CARGO_PROFILE_RELEASE_LTO=false CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 \
    cargo install wasm-bindgen-cli --version "$bindgen_version"
fi

if [ "$(cargo leptos --version 2>/dev/null)" != "cargo-leptos $CARGO_LEPTOS_VERSION" ]; then
  step "installing cargo-leptos $CARGO_LEPTOS_VERSION"
  cargo install cargo-leptos --version "$CARGO_LEPTOS_VERSION" --locked --debug
fi

if [ "$(cargo deny --version 2>/dev/null)" != "cargo-deny $CARGO_DENY_VERSION" ]; then
  step "installing cargo-deny $CARGO_DENY_VERSION"
  cargo install --locked "cargo-deny@$CARGO_DENY_VERSION" --debug
fi

# Playwright uses Debian's Chromium; tools/ provides wasm-opt (Debian's
# binaryen produces a wasm that fails to hydrate).
for dir in end2end tools; do
  if [ "$dir/package-lock.json" -nt "$dir/node_modules/.package-lock.json" ]; then
    step "npm ci in $dir"
    (cd "$dir" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund)
  fi
done
