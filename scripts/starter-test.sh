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
# A name that cannot be a crate's gets a clear answer, and nothing written.
if refusal=$(scripts/new-app.sh Not_A_Crate "$app" 2>&1) || [ -e "$app" ] ||
  [[ $refusal != *'cannot name a crate'* ]]; then
  echo "starter-test: new-app.sh took a bad name: $refusal" >&2
  exit 1
fi
scripts/new-app.sh starter-check "$app"
# Playwright from this checkout: no download, and the same version.
ln -s "$PWD/end2end/node_modules" "$app/end2end/node_modules"

# The app's site takes this checkout's name (cargo-leptos reads it from the
# environment; the app finds its files by whatever name it was built with).
# Leptos compiles the name in, so under another name the Leptos crates this
# checkout built would be built again here, and again for the next make test.
export LEPTOS_OUTPUT_NAME
LEPTOS_OUTPUT_NAME=$(sed -n 's/^name = "\(.*\)"$/\1/p' Cargo.toml)

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
APP_PORT="$port" make -C "$app" test

# Its `make run` builds in its own cache, $CARGO_TARGET_DIR-watch.
cd end2end
STARTER_APP="$app" npx playwright test --config devloop.config.ts
