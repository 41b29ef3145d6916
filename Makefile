# Two commands: `make run` for development, `make test` for everything CI
# checks. Both install what is missing first (scripts/setup.sh).

# Builds live outside the clone, so fresh clones share one warm cache.
export CARGO_TARGET_DIR ?= $(HOME)/.cache/stateside/target
# cargo-leptos takes wasm-opt from PATH; the npm one is the version that works.
export PATH := $(CURDIR)/tools/node_modules/.bin:$(HOME)/.cargo/bin:$(PATH)
# `make run` builds in a cache of its own: in watch mode cargo-leptos
# compiles Leptos with LEPTOS_WATCH set, so one cache for both commands
# would rebuild Leptos, and all that uses it, at every switch.
WATCH_TARGET_DIR := $(CARGO_TARGET_DIR)-watch
# Leptos reads LEPTOS_OUTPUT_NAME at compile time and cargo-leptos sets it.
# Setting it for every cargo command stops `cargo test` and `cargo leptos
# build` from rebuilding leptos for each other. The value is `name` in
# [[workspace.metadata.leptos]], the only `name =` line in Cargo.toml.
export LEPTOS_OUTPUT_NAME := $(shell sed -n 's/^name = "\(.*\)"$$/\1/p' Cargo.toml)

.PHONY: setup run test

setup:
	scripts/setup.sh

# Sessions live in a file in dev, so a rebuild keeps each tab's state and
# its restartable tasks (set STATESIDE_STORE=memory for a clean slate each
# time); a rebuild gives running handlers a second to finish.
run: export STATESIDE_STORE ?= file:$(CURDIR)/target/dev-sessions.redb
run: export STATESIDE_SHUTDOWN_GRACE ?= 1s
run: export CARGO_TARGET_DIR = $(WATCH_TARGET_DIR)
run: setup
	cargo leptos watch

test: setup
	cargo fmt --all --check
	# Licenses, bans, sources, and advisories when a database is on disk.
	scripts/deny.sh
	cargo clippy --workspace --all-targets -- -D warnings
	# The browser-only code (hydrate) is not in the native build: lint it too.
	cargo clippy -p frontend --target wasm32-unknown-unknown --features hydrate -- -D warnings
	# The library crates' docs, with every public item documented.
	RUSTDOCFLAGS="-D warnings" cargo doc --no-deps -p stateside -p stateside-wire -p stateside-leptos \
	  --features stateside-leptos/ssr,stateside-wire/testing
	cargo test --workspace
	scripts/chaos.sh
	cargo leptos build
	scripts/e2e.sh
	$(MAKE) bench-smoke
	# A new app from templates/starter: its build, its own Playwright test,
	# and the dev loop (an edit under `make run` keeps the clicks).
	scripts/starter-test.sh

# Chaos (scripts/chaos.sh, server/tests/chaos/): two servers on one Redis
# and one on the file store, browser-like tabs, and a seeded schedule of
# faults (kill -9 of a server, SIGSTOP past its lease, kill -9 of Redis, a
# dropped connection, a graceful restart); then every acked event must be
# applied once, every copy equal the server's, versions monotonic, no task
# run twice. `make chaos` runs one seed (SEED=<n>, or a random one; under a
# minute and steady, so `make test` runs it too); a failing seed replays
# with SEED=<n> make chaos. `make chaos-long` runs seeds SEED, SEED+1, ...
# for MINUTES and prints each seed's line and the totals.
# Fuzzing (scripts/fuzz.sh, fuzz/README.md): each target for FUZZ_SECONDS.
.PHONY: chaos chaos-long fuzz

MINUTES ?= 30

chaos: setup
	SEED=$(SEED) MINUTES= scripts/chaos.sh

chaos-long: setup
	SEED=$(SEED) MINUTES=$(MINUTES) scripts/chaos.sh

fuzz:
	scripts/fuzz.sh

# Benchmarks (bench/README.md). `make bench` runs Reflex's anchor (and its
# side of g100k, bench/reflex/g100k.sh) and ours on this machine, one after
# the other, and writes the side-by-side table to bench/results/<date>.md,
# with the raw rows in bench/results/<date>/. Ours runs every workload on
# the websocket and on POST + SSE (BENCH_TRANSPORTS), each beside its echo
# floor.
REFLEX_ANCHOR ?= $(CURDIR)/../shared/anchors/reflex
BENCH_DATE ?= $(shell date +%Y-%m-%d)
BENCH_RUN = bench/results/$(BENCH_DATE)
BENCH_BIN = $(CARGO_TARGET_DIR)/release/stateside-bench
# Both backends run at this niceness (the anchor's NICE), e.g. -10 to keep
# other builds on a shared machine from preempting them.
BENCH_NICE ?= 0
BENCH_TRANSPORTS ?= socket,http

.PHONY: bench bench-build bench-report bench-scale bench-smoke

bench-build: setup
	cargo leptos build --release
	cargo build --release -p stateside-bench

bench: bench-build
	mkdir -p $(BENCH_RUN)
	{ date -Is; echo "nproc $$(nproc), both backends at nice $(BENCH_NICE)"; uptime; \
	  top -bn1 -w 120 | head -15; } > $(BENCH_RUN)/load.txt
	NICE=$(BENCH_NICE) OUT=$(CURDIR)/$(BENCH_RUN)/reflex $(REFLEX_ANCHOR)/scripts/run_all.sh
	NICE=$(BENCH_NICE) OUT=$(CURDIR)/$(BENCH_RUN)/reflex REFLEX_ANCHOR=$(REFLEX_ANCHOR) \
	  bench/reflex/g100k.sh
	{ echo; echo "between Reflex and ours:"; uptime; } >> $(BENCH_RUN)/load.txt
	nice -n $(BENCH_NICE) $(BENCH_BIN) run --transports $(BENCH_TRANSPORTS) --out $(BENCH_RUN)/ours.json
	BENCH_BROWSER_MD=$(CURDIR)/$(BENCH_RUN)/browser.md STATESIDE_PROFILE=release \
	  scripts/e2e.sh --config bench/playwright.config.ts
	{ echo '## Engine (`cargo bench -p stateside`)'; echo; echo '```'; \
	  cargo bench -q -p stateside --bench engine 2>/dev/null \
	    | grep -E '^(session|patch)/|time:|thrpt:' | grep -v '%'; \
	  echo '```'; } > $(BENCH_RUN)/engine.md
	{ echo '## Flush cost (`cargo bench -p stateside --bench flush`)'; echo; \
	  cargo bench -q -p stateside --bench flush 2>/dev/null | sed -n '/^Flush cost/,$$p'; } \
	  > $(BENCH_RUN)/flush.md
	{ echo; echo "after:"; uptime; } >> $(BENCH_RUN)/load.txt
	$(MAKE) bench-report

# The table again from the raw rows, with the scale runs if they were made
# and the analysis (notes.md) if one was written.
bench-report:
	$(BENCH_BIN) report --reflex $(BENCH_RUN)/reflex --ours $(BENCH_RUN)/ours.json \
	  $$(for run in scale tasks; do test -f $(BENCH_RUN)/$$run.json && echo --scale $(BENCH_RUN)/$$run.json; done) \
	  --include $(BENCH_RUN)/browser.md --include $(BENCH_RUN)/engine.md \
	  $$(test -f $(BENCH_RUN)/flush.md && echo --include $(BENCH_RUN)/flush.md) \
	  $$(test -f $(BENCH_RUN)/notes.md && echo --include $(BENCH_RUN)/notes.md) \
	  --load "$$(cat $(BENCH_RUN)/load.txt)" --out $(BENCH_RUN).md

# Optional, about three minutes: 10,000 sessions at one event a second
# against the server, then 10,000 background tasks locking once a second in
# one engine, in-process (crates/stateside/benches/tasks.rs, which prints
# its row as JSON).
bench-scale: bench-build
	mkdir -p $(BENCH_RUN)
	nice -n $(BENCH_NICE) $(BENCH_BIN) scale --out $(BENCH_RUN)/scale.json
	cargo bench --no-run -q -p stateside --bench tasks
	nice -n $(BENCH_NICE) cargo bench -q -p stateside --bench tasks > $(BENCH_RUN)/tasks.json

# For CI, under a minute: every workload on both transports with small
# counts against the debug build `make test` made, exactness checked.
bench-smoke: setup
	cargo leptos build
	cargo build -p stateside-bench
	$(CARGO_TARGET_DIR)/debug/stateside-bench run --smoke --idle-ttl 1s
