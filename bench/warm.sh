#!/usr/bin/env bash
# What one warm request costs: `schemaforge serve` on a fresh PostgreSQL
# database, a few tenants created and warmed (their connections kept idle),
# then a fixed number of incremental changes, one in flight. Counts rather
# than times, so a shared machine disturbs it little: the CPU the service
# and the database's own backends used per request (from /proc: the
# backends are the same before and after when every request was warm, which
# the script checks), and, with --statements, what each request sent to
# PostgreSQL (log_min_duration_statement = 0 on the bench database only: each
# parse, bind and execute, and each simple query, is a line).
#
# --perf records the service's stacks during the measured requests
# (`perf record -e cpu-clock`, into <work>/perf.data); --callgrind runs the
# service under callgrind, collecting during the measured requests only
# (<work>/callgrind.out.*: exact instruction counts; its CPU times are then
# callgrind's).
#
# Usage: bench/warm.sh [--tenants 4] [--requests 25] [--statements] [--perf | --callgrind] [--profile release|debug] [--work DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
. scripts/lib.sh

TENANTS=4
REQUESTS=25
STATEMENTS=0
PERF=0
CALLGRIND=0
PROFILE=release
WORK=""
while [ $# -gt 0 ]; do
  case "$1" in
    --tenants) TENANTS=$2; shift 2 ;;
    --requests) REQUESTS=$2; shift 2 ;;
    --statements) STATEMENTS=1; shift ;;
    --perf) PERF=1; shift ;;
    --callgrind) CALLGRIND=1; shift ;;
    --profile) PROFILE=$2; shift 2 ;;
    --work) WORK=$2; shift 2 ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "unknown argument: $1 (see --help)" >&2; exit 2 ;;
  esac
done
case "$PROFILE" in release|debug) ;; *) echo "--profile is release or debug" >&2; exit 2 ;; esac

TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
WORK=${WORK:-$TARGET_DIR/bench-warm}
PG_URL="${SCHEMAFORGE_TEST_POSTGRES_URL:-${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}}"
RUN_ID="sfw$(date +%s)_$$"
TOKEN="bench-admin-$RUN_ID"
SF="${SCHEMAFORGE_BIN:-$TARGET_DIR/$PROFILE/schemaforge}"
LOAD="${SCHEMAFORGE_BENCH_BIN:-$TARGET_DIR/$PROFILE/schemaforge-bench}"
if [ -z "${SCHEMAFORGE_BIN:-}" ]; then
  log "building schemaforge ($PROFILE)"
  if [ "$PROFILE" = release ]; then cargo build --release --locked -p schemaforge -p schemaforge-bench; else cargo build --locked -p schemaforge -p schemaforge-bench; fi
fi

rm -rf "$WORK"
mkdir -p "$WORK/data"
admin() { psql -X -q -v ON_ERROR_STOP=1 -d "$PG_URL" "$@"; }
SERVE_PID=""
cleanup() {
  if [ -n "$SERVE_PID" ] && kill -0 "$SERVE_PID" 2>/dev/null; then
    kill -TERM "$SERVE_PID" 2>/dev/null || true
    wait "$SERVE_PID" 2>/dev/null || true
  fi
  admin -c "DROP DATABASE IF EXISTS \"$RUN_ID\" WITH (FORCE)" >/dev/null 2>&1 || true
  for role in $(admin -Atc "SELECT rolname FROM pg_roles WHERE rolname LIKE 'tenant\\_${RUN_ID}\\_%'" 2>/dev/null); do
    admin -c "DROP ROLE IF EXISTS \"$role\"" >/dev/null 2>&1 || true
  done
}
trap cleanup EXIT

ensure_postgres "$PG_URL"
admin -c "CREATE DATABASE \"$RUN_ID\""
if [ "$STATEMENTS" = 1 ]; then
  admin -c "ALTER DATABASE \"$RUN_ID\" SET log_min_duration_statement = 0"
fi
VALGRIND=()
if [ "$CALLGRIND" = 1 ]; then
  VALGRIND=(valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file="$WORK/callgrind.out.%p")
fi
env -u DATABASE_URL -u SCHEMAFORGE_DATABASE_URL -u SCHEMAFORGE_STORE -u SCHEMAFORGE_CONFIG -u SCHEMAFORGE_TENANT_CONNECTIONS \
  SCHEMAFORGE_ADMIN_TOKEN="$TOKEN" SCHEMAFORGE_SECRET="bench-secret-$RUN_ID" \
  ${VALGRIND[@]+"${VALGRIND[@]}"} "$SF" serve --listen 127.0.0.1:0 --data-dir "$WORK/data" --database-url "${PG_URL%/*}/$RUN_ID" >"$WORK/serve.out" 2>"$WORK/serve.err" &
SERVE_PID=$!
ADDR=$(serve_address "$SERVE_PID" "$WORK/serve.out" 600)
[ -n "$ADDR" ] || { cat "$WORK/serve.err" >&2; exit 1; }

load() {
  "$LOAD" load --addr "$ADDR" --token "$TOKEN" --tenants "$TENANTS" --concurrency 1 --prefix "$RUN_ID" "$@"
}
hz=$(getconf CLK_TCK)
ticks() { awk '{ s += $14 + $15 } END { print s + 0 }' "$@" 2>/dev/null || echo 0; }
backends() { admin -Atc "SELECT pid FROM pg_stat_activity WHERE datname = '$RUN_ID' AND pid <> pg_backend_pid() ORDER BY pid"; }
backend_ticks() { local files=(); for pid in $1; do files+=("/proc/$pid/stat"); done; ticks "${files[@]}"; }

# Set-up (every tenant created) and two changes each, so every tenant has a
# connection kept idle and its statements met once.
load --requests 2 --seconds 0 >"$WORK/setup.json"
PIDS_BEFORE=$(backends)
SERVICE_BEFORE=$(ticks "/proc/$SERVE_PID/stat")
SERVICE_STAT_BEFORE=$(cat "/proc/$SERVE_PID/stat")
PG_BEFORE=$(backend_ticks "$PIDS_BEFORE")
LOG=/var/log/postgresql/postgresql-15-main.log
LOG_FROM=$( [ -r "$LOG" ] && stat -c %s "$LOG" || echo 0)
PERF_PID=""
if [ "$PERF" = 1 ]; then
  perf record -q -F 999 -e cpu-clock --call-graph dwarf,16384 -p "$SERVE_PID" -o "$WORK/perf.data" >/dev/null 2>&1 &
  PERF_PID=$!
  sleep 1
fi
[ "$CALLGRIND" = 1 ] && callgrind_control -i on "$SERVE_PID" >/dev/null
load --skip-setup --first-change 3 --requests "$REQUESTS" >"$WORK/load.json"
if [ "$CALLGRIND" = 1 ]; then
  callgrind_control -d "$SERVE_PID" >/dev/null
  callgrind_control -i off "$SERVE_PID" >/dev/null
  total=$(cat "$WORK"/callgrind.out.* | awk '/^summary:/ { s += $2 } END { print s + 0 }')
  echo "callgrind: $total instructions in the measured requests, $((total / (TENANTS * REQUESTS))) per request" >"$WORK/callgrind.txt"
fi
if [ -n "$PERF_PID" ]; then kill -INT "$PERF_PID"; wait "$PERF_PID" || true; fi
SERVICE_AFTER=$(ticks "/proc/$SERVE_PID/stat")
SERVICE_STAT_AFTER=$(cat "/proc/$SERVE_PID/stat")
PEAK_KIB=$(awk '/^VmHWM:/ { print $2 }' "/proc/$SERVE_PID/status")
PG_AFTER=$(backend_ticks "$PIDS_BEFORE")
PIDS_AFTER=$(backends)
N=$((TENANTS * REQUESTS))
errors=$(jq '.incremental.errors' "$WORK/load.json")
{
  echo "tenants $TENANTS, $N warm requests (changes 3..$((REQUESTS + 2))), errors $errors"
  awk -v a="$SERVICE_BEFORE" -v b="$SERVICE_AFTER" -v p="$PG_BEFORE" -v q="$PG_AFTER" -v n="$N" -v hz="$hz" \
    'BEGIN { printf "CPU per request: service %.2f ms, PostgreSQL backends of the bench database %.2f ms\n", (b - a) * 1000 / hz / n, (q - p) * 1000 / hz / n }'
  # Fields 10, 14 and 15 of /proc/<pid>/stat: minor page faults, user and system ticks.
  printf '%s\n%s\n' "$SERVICE_STAT_BEFORE" "$SERVICE_STAT_AFTER" | awk -v n="$N" -v hz="$hz" \
    'NR == 1 { f = $10; u = $14; s = $15 } NR == 2 { printf "service: user %.2f ms, system %.2f ms, %.0f page faults per request\n", ($14 - u) * 1000 / hz / n, ($15 - s) * 1000 / hz / n, ($10 - f) / n }'
  echo "service peak RSS: $((PEAK_KIB / 1024)) MiB"
  [ "$PIDS_BEFORE" = "$PIDS_AFTER" ] && echo "backends: the same $(echo "$PIDS_BEFORE" | wc -l) before and after (every request warm)" \
    || echo "backends changed during the run (some requests logged in anew): before $(echo $PIDS_BEFORE), after $(echo $PIDS_AFTER)"
  jq -r '.incremental | "latency p50 \(.p50Ms) ms, p99 \(.p99Ms) ms; service mean ms: validate \(.serverMeanMs.validate), plan \(.serverMeanMs.plan), apply \(.serverMeanMs.apply), artifacts \(.serverMeanMs.artifacts), total \(.serverMeanMs.total)"' "$WORK/load.json"
  if [ "$STATEMENTS" = 1 ] && [ -r "$LOG" ]; then
    tail -c +"$((LOG_FROM + 1))" "$LOG" >"$WORK/statements.log"
    # Only this database's backends log (the setting is the database's).
    grep -E 'duration: [0-9.]+ ms +(statement|parse|bind|execute)' "$WORK/statements.log" \
      | sed -E 's/.*duration: [0-9.]+ ms +(statement|parse|bind|execute)[^:]*: /\1 /' >"$WORK/statements.txt" || true
    echo "per request, as PostgreSQL logged them:"
    awk -v n="$N" '{ k[$1]++ } END { for (x in k) printf "  %s %.1f\n", x, k[x] / n }' "$WORK/statements.txt" | sort
    echo "  (distinct texts by count: $WORK/statements-by-text.txt)"
    sort "$WORK/statements.txt" | cut -c1-140 | uniq -c | sort -rn >"$WORK/statements-by-text.txt"
  fi
  [ "$CALLGRIND" = 1 ] && cat "$WORK/callgrind.txt"
  echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
} | tee "$WORK/results.md"
