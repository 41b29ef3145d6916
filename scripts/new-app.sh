#!/usr/bin/env bash
# Makes a new Stateside app from templates/starter, as
# `cargo generate --path templates/starter` does, without cargo-generate:
# it fills in the same placeholders (the app's name, and this checkout's
# absolute path, which the app's crates depend on by path), then copies
# this checkout's Cargo.lock, so the app builds the same versions in the
# same cache.
#
#   scripts/new-app.sh <name> <dir>      e.g. scripts/new-app.sh my-app ~/my-app
set -euo pipefail
stateside=$(cd "$(dirname "$0")/.." && pwd)

fail() { echo "new-app: $*" >&2; exit 2; }
[ $# -eq 2 ] || fail "usage: scripts/new-app.sh <name> <dir>, e.g. scripts/new-app.sh my-app ~/my-app"
name=$1
dir=$2
# The name becomes the server's package and binary: a crate name, and not
# one of the packages the app already has.
[[ $name =~ ^[a-z][a-z0-9]*(-[a-z0-9]+)*$ ]] ||
  fail "\"$name\" cannot name a crate: use lowercase letters, digits and single dashes, starting with a letter (e.g. my-app)"
[[ $name == app || $name == stateside* ]] &&
  fail "\"$name\" is taken by a package the app depends on; choose another name"
[ ! -e "$dir" ] || [ -z "$(ls -A "$dir")" ] || fail "$dir is not empty; nothing was written"

mkdir -p "$dir"
cp -R "$stateside/templates/starter/." "$dir/"
rm "$dir/cargo-generate.toml"
# `&`, `|` and `\` would mean something to sed in the replacement.
path=$(printf '%s' "$stateside" | sed 's/[&|\\]/\\&/g')
find "$dir" -type f -exec sed -i -e "s|{{project-name}}|$name|g" -e "s|{{stateside_path}}|$path|g" {} +
if left=$(grep -rl '{{' "$dir"); then
  fail "placeholders this script does not know are left in: $left"
fi
cp "$stateside/Cargo.lock" "$dir/"
echo "new-app: $name is in $dir; cd there and run make run"
