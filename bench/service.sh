#!/usr/bin/env bash
# Service load: `schemaforge serve` on loopback, driven by `schemaforge-bench
# load`: every tenant is created with a ten-table definition, then for the
# measured seconds each request sends one tenant's next incremental change
# (a column, every fourth time with an index) to POST /schema/generate.
# Prints throughput and p50/p90/p99 latency, the service's own mean timings
# per phase, and the service's peak RSS; writes <work>/load.json and <work>/results.md.
#
# Usage: bench/service.sh [--backend postgres|sqlite] [--tenants 100] [--concurrency 16]
#                         [--seconds 20] [--profile release|debug] [--work DIR] [--quick]
#                         [--tenant-connections N]
#   --backend postgres  tenants live in a fresh database on $SCHEMAFORGE_TEST_POSTGRES_URL
#                       (else $DATABASE_URL, else postgres://postgres@127.0.0.1:5432/postgres),
#                       dropped afterwards with the tenants' roles
#   --backend sqlite    the service's own default store: no --database-url, only --data-dir
#   --tenant-connections N  idle tenant connections the service keeps (its
#                       default otherwise, 32; with 100 tenants, 64 keeps most warm
#                       and still fits max_connections = 100)
#   --quick             5 tenants, 2 workers, 2 seconds, the debug build: checks the script works
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
. scripts/lib.sh

BACKEND=postgres
TENANTS=100
CONCURRENCY=16
SECONDS_OF_LOAD=20
PROFILE=release
WORK=""
TENANT_CONNECTIONS=""
while [ $# -gt 0 ]; do
  case "$1" in
    --backend) BACKEND=$2; shift 2 ;;
    --tenants) TENANTS=$2; shift 2 ;;
    --concurrency) CONCURRENCY=$2; shift 2 ;;
    --seconds) SECONDS_OF_LOAD=$2; shift 2 ;;
    --profile) PROFILE=$2; shift 2 ;;
    --work) WORK=$2; shift 2 ;;
    --tenant-connections) TENANT_CONNECTIONS=$2; shift 2 ;;
    --quick) TENANTS=5; CONCURRENCY=2; SECONDS_OF_LOAD=2; PROFILE=debug; shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "unknown argument: $1 (see --help)" >&2; exit 2 ;;
  esac
done
case "$PROFILE" in release|debug) ;; *) echo "--profile is release or debug" >&2; exit 2 ;; esac
case "$BACKEND" in postgres|sqlite) ;; *) echo "--backend is postgres or sqlite" >&2; exit 2 ;; esac

TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
WORK=${WORK:-$TARGET_DIR/bench-service}
PG_URL="${SCHEMAFORGE_TEST_POSTGRES_URL:-${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}}"
RUN_ID="sfl$(date +%s)_$$"
TOKEN="bench-admin-$RUN_ID"

ensure_tool jq jq
# SCHEMAFORGE_BIN and SCHEMAFORGE_BENCH_BIN run binaries built elsewhere
# (another commit's, for a before/after pair) instead of building.
if [ -z "${SCHEMAFORGE_BIN:-}" ]; then
  log "building schemaforge ($PROFILE)"
  if [ "$PROFILE" = release ]; then
    cargo build --release --locked -p schemaforge -p schemaforge-bench
  else
    cargo build --locked -p schemaforge -p schemaforge-bench
  fi
fi
SF="${SCHEMAFORGE_BIN:-$TARGET_DIR/$PROFILE/schemaforge}"
LOAD="${SCHEMAFORGE_BENCH_BIN:-$TARGET_DIR/$PROFILE/schemaforge-bench}"

rm -rf "$WORK"
mkdir -p "$WORK/data"
admin() { psql -X -q -v ON_ERROR_STOP=1 -d "$PG_URL" "$@"; }
SERVE_PID=""
DATABASE=""
cleanup() {
  if [ -n "$SERVE_PID" ] && kill -0 "$SERVE_PID" 2>/dev/null; then
    kill -TERM "$SERVE_PID" 2>/dev/null || true
    wait "$SERVE_PID" 2>/dev/null || true
  fi
  if [ -n "$DATABASE" ]; then
    admin -c "DROP DATABASE IF EXISTS \"$DATABASE\" WITH (FORCE)" >/dev/null 2>&1 || true
    # Tenant roles are server-wide: drop this run's.
    for role in $(admin -Atc "SELECT rolname FROM pg_roles WHERE rolname LIKE 'tenant\\_${RUN_ID}\\_%'" 2>/dev/null); do
      admin -c "DROP ROLE IF EXISTS \"$role\"" >/dev/null 2>&1 || true
    done
  fi
}
trap cleanup EXIT

SERVE_ARGS=(serve --listen 127.0.0.1:0 --data-dir "$WORK/data")
[ -n "$TENANT_CONNECTIONS" ] && SERVE_ARGS+=(--tenant-connections "$TENANT_CONNECTIONS")
if [ "$BACKEND" = postgres ]; then
  ensure_postgres "$PG_URL"
  DATABASE="$RUN_ID"
  admin -c "CREATE DATABASE \"$DATABASE\""
  SERVE_ARGS+=(--database-url "${PG_URL%/*}/$DATABASE")
fi

log "starting schemaforge serve ($BACKEND)"
env -u DATABASE_URL -u SCHEMAFORGE_DATABASE_URL -u SCHEMAFORGE_STORE -u SCHEMAFORGE_CONFIG -u SCHEMAFORGE_TENANT_CONNECTIONS \
  SCHEMAFORGE_ADMIN_TOKEN="$TOKEN" SCHEMAFORGE_SECRET="bench-secret-$RUN_ID" \
  "$SF" "${SERVE_ARGS[@]}" >"$WORK/serve.out" 2>"$WORK/serve.err" &
SERVE_PID=$!
ADDR=$(serve_address "$SERVE_PID" "$WORK/serve.out" 100)
if [ -z "$ADDR" ]; then
  echo "schemaforge serve did not start ($BACKEND):" >&2
  cat "$WORK/serve.err" >&2
  if [ "$BACKEND" = sqlite ]; then
    echo "(the SQLite backend needs a schemaforge that serves without --database-url)" >&2
  fi
  exit 1
fi

# CPU seconds used so far by the service, and by the whole PostgreSQL server
# (its processes and the backends that already exited, counted in the
# postmaster's children; other users of the server count too).
ticks_per_second=$(getconf CLK_TCK)
service_cpu() { awk -v hz="$ticks_per_second" '{ printf "%.2f", ($14 + $15) / hz }' "/proc/$SERVE_PID/stat"; }
postgres_cpu() {
  local pid total=0
  for pid in $(pgrep -u postgres 2>/dev/null); do
    total=$((total + $(awk '{ print $14 + $15 + $16 + $17 }' "/proc/$pid/stat" 2>/dev/null || echo 0)))
  done
  awk -v t="$total" -v hz="$ticks_per_second" 'BEGIN { printf "%.2f", t / hz }'
}

log "load: $TENANTS tenants, $CONCURRENCY requests in flight, $SECONDS_OF_LOAD s at $ADDR"
SERVICE_CPU_BEFORE=$(service_cpu)
POSTGRES_CPU_BEFORE=$(postgres_cpu)
status=0
"$LOAD" load --addr "$ADDR" --token "$TOKEN" --tenants "$TENANTS" --concurrency "$CONCURRENCY" \
  --seconds "$SECONDS_OF_LOAD" --prefix "$RUN_ID" --backend "$BACKEND" >"$WORK/load.json" || status=$?
# The service's peak resident memory and CPU, read before it stops.
PEAK_KIB=$(awk '/^VmHWM:/ { print $2 }' "/proc/$SERVE_PID/status" 2>/dev/null || true)
SERVICE_CPU=$(awk -v a="$(service_cpu)" -v b="$SERVICE_CPU_BEFORE" 'BEGIN { print a - b }')
POSTGRES_CPU=$(awk -v a="$(postgres_cpu)" -v b="$POSTGRES_CPU_BEFORE" 'BEGIN { print a - b }')
kill -TERM "$SERVE_PID" 2>/dev/null || true
wait "$SERVE_PID" 2>/dev/null || true
SERVE_PID=""

jq -r --arg rss "${PEAK_KIB:-0}" --arg backend "$BACKEND" --arg service_cpu "$SERVICE_CPU" --arg postgres_cpu "$POSTGRES_CPU" '
  def row(name; p): "| \(name) | \(p.requests) | \(p.errors) | \(p.throughput) | \(p.p50Ms) | \(p.p90Ms) | \(p.p99Ms) | \(p.maxMs) | \(p.serverMeanMs.validate) / \(p.serverMeanMs.plan) / \(p.serverMeanMs.apply) / \(p.serverMeanMs.artifacts) / \(p.serverMeanMs.total) |";
  "backend \($backend), \(.tenants) tenants, \(.concurrency) in flight; service peak RSS \((($rss | tonumber? // 0) / 1024 | floor)) MiB",
  "",
  "| phase | requests | errors | requests/s | p50 ms | p90 ms | p99 ms | max ms | service mean ms (validate / plan / apply / artifacts / total) |",
  "|---|---:|---:|---:|---:|---:|---:|---:|---|",
  row("create tenant (10 tables)"; .setup),
  row("incremental change"; .incremental),
  "",
  ((.setup.requests + .incremental.requests) as $n | ($service_cpu | tonumber) as $s | ($postgres_cpu | tonumber) as $p
    | "CPU per request (both phases, \($n) requests): service \($s * 1000 / $n | floor) ms, PostgreSQL \(if $backend == "postgres" then "\($p * 1000 / $n | floor) ms (the whole server)" else "-" end)"),
  (.setup.errorSamples + .incremental.errorSamples | .[] | "error: \(.)")
' "$WORK/load.json" | tee "$WORK/results.md"
# The machine may be shared: how busy it was says how far to trust the numbers.
echo "tenant connections: ${TENANT_CONNECTIONS:-default}; load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$WORK/results.md"
exit "$status"
