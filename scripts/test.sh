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
if command -v pg_isready >/dev/null && ! pg_isready -q -d "$PG_URL"; then
  log "starting PostgreSQL"
  for version in $(ls /etc/postgresql 2>/dev/null); do
    pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
  done
  for _ in $(seq 1 30); do pg_isready -q -d "$PG_URL" && break; sleep 1; done
  pg_isready -d "$PG_URL"
fi

# A real S3-compatible server (moto) for the service's S3 store tests.
if [ ! -x .venv/bin/moto_server ] || [ ! -x .venv/bin/openapi-spec-validator ] || [ scripts/requirements-test.txt -nt .venv/bin/moto_server ]; then
  log "installing the Python test tools (.venv)"
  python3 -m venv .venv
  .venv/bin/pip install --quiet --disable-pip-version-check -r scripts/requirements-test.txt
  touch .venv/bin/moto_server
fi

# The real drizzle toolchain (drizzle-kit, drizzle-orm, TypeScript) judges our output.
if [ ! -f oracle/node_modules/.package-lock.json ] || [ oracle/package-lock.json -nt oracle/node_modules/.package-lock.json ]; then
  log "installing the drizzle toolchain (npm ci)"
  # better-sqlite3 compiles from source here (its prebuilt binaries are not
  # reachable): point node-gyp at the machine's Node.js headers.
  if [ -z "${npm_config_nodedir:-}" ] && [ -f /usr/include/node/node.h ]; then export npm_config_nodedir=/usr; fi
  npm ci --prefix oracle --no-audit --no-fund --loglevel=error
fi

log "cargo fmt --check"
cargo fmt --all -- --check

log "cargo clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings

log "cargo test"
cargo test --workspace --locked
