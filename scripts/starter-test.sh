#!/usr/bin/env bash
# What a newcomer does first, checked: a new app from templates/starter
# (scripts/new-app.sh, the offline twin of cargo-generate), its `make test`
# (its site build and its own Playwright test), then the dev loop on it
# (end2end/devloop: an edit under `make run` reloads the page and keeps
# the session).
#
# The app is made afresh each run, always in the same folder under the
# cargo target dir: its crates keep one set of build artifacts there
# instead of a new one per run, and its dependencies are Stateside's, at
# the versions of the copied Cargo.lock, already built.
set -euo pipefail
cd "$(dirname "$0")/.."

target=${CARGO_TARGET_DIR:-$HOME/.cache/stateside/target}
app="$target/starter-test/starter-check"
rm -rf "$app"
scripts/new-app.sh starter-check "$app"
# Playwright from this checkout: no download, and the same version.
ln -s "$PWD/end2end/node_modules" "$app/end2end/node_modules"

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
# The root Makefile exports this checkout's site name, which would name the
# app's site too (cargo-leptos reads it from the environment).
env -u LEPTOS_OUTPUT_NAME APP_PORT="$port" make -C "$app" test

cd end2end
env -u LEPTOS_OUTPUT_NAME STARTER_APP="$app" npx playwright test --config devloop.config.ts
