# Two commands: `make run` for development, `make test` for everything CI
# checks. Both install what is missing first (scripts/setup.sh).

# Builds live outside the clone, so fresh clones share one warm cache.
export CARGO_TARGET_DIR ?= $(HOME)/.cache/stateside/target
# cargo-leptos takes wasm-opt from PATH; the npm one is the version that works.
export PATH := $(CURDIR)/tools/node_modules/.bin:$(HOME)/.cargo/bin:$(PATH)
# Leptos reads LEPTOS_OUTPUT_NAME at compile time and cargo-leptos sets it.
# Setting it for every cargo command stops `cargo test` and `cargo leptos
# build` from rebuilding leptos for each other. The value is `name` in
# [[workspace.metadata.leptos]], the only `name =` line in Cargo.toml.
export LEPTOS_OUTPUT_NAME := $(shell sed -n 's/^name = "\(.*\)"$$/\1/p' Cargo.toml)

.PHONY: setup run test

setup:
	scripts/setup.sh

run: setup
	cargo leptos watch

test: setup
	cargo fmt --all --check
	cargo clippy --workspace --all-targets -- -D warnings
	cargo test --workspace
	cargo leptos build
	scripts/e2e.sh
