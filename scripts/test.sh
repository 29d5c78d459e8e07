#!/usr/bin/env bash
# Runs the whole test suite on a fresh machine: installs what the tests need
# (libclang for the PostgreSQL grammar, the pinned drizzle toolchain), starts
# PostgreSQL when it is not running, then formatting, lints and every test.
set -euo pipefail
cd "$(dirname "$0")/.."

. scripts/lib.sh
ensure_libclang

# The live tests need a PostgreSQL server; start the machine's own if it is down.
PG_URL="${SCHEMAFORGE_TEST_POSTGRES_URL:-${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}}"
ensure_postgres "$PG_URL"

# A real S3-compatible server (moto) for the service's S3 store tests.
if [ ! -x .venv/bin/moto_server ] || [ ! -x .venv/bin/openapi-spec-validator ] || [ scripts/requirements-test.txt -nt .venv/bin/moto_server ]; then
  log "installing the Python test tools (.venv)"
  python3 -m venv .venv
  .venv/bin/pip install --quiet --disable-pip-version-check -r scripts/requirements-test.txt
  touch .venv/bin/moto_server
fi

# The real drizzle toolchain (drizzle-kit, drizzle-orm, TypeScript) judges our output.
ensure_oracle

log "cargo fmt --check"
cargo fmt --all -- --check

log "cargo clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings

log "cargo test"
cargo test --workspace --locked

# Benchmarks are not tests (no timing is asserted), but they must keep
# working: each criterion bench runs once on ten tables, and the comparison
# and load scripts run on a small N with the debug build (see BENCHMARKS.md).
log "benchmarks (smoke run)"
SCHEMAFORGE_BENCH_SIZES=10 cargo test --locked -p schemaforge-bench --benches
bench/compare.sh --quick
bench/service.sh --quick
bench/service.sh --quick --backend sqlite
