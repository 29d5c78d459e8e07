#!/usr/bin/env bash
# Whole-command comparison, in one run and on the same synthetic schemas:
#
#   generate  schemaforge generate  vs  drizzle-kit generate (fed the schema.ts we emit),
#             initial and incremental
#   migrate   schemaforge migrate   vs  drizzle-kit migrate  vs  psql -1 -f (the floor),
#             the same initial SQL, each on a fresh database
#   pull      schemaforge pull      vs  drizzle-kit pull, on a database holding the N tables
#
# Each run is timed by hyperfine, the tools of one comparison taking turns
# run by run; the median is reported. Memory is the peak RSS of one more run
# under /usr/bin/time (of the client process: the server's is not counted).
# Prints a table of medians and ratios, and writes it to <work>/results.md.
#
# Usage: bench/compare.sh [--sizes 10,100,1000,5000] [--runs N] [--kit-timeout SECONDS]
#                         [--operations generate,migrate,pull] [--profile release|debug]
#                         [--work DIR] [--quick]
#   --quick   N=10, one run each, the debug build: checks the script works (timings meaningless)
#
# Installs what it needs (hyperfine, jq, GNU time from Debian; the pinned
# drizzle toolchain with npm ci), starts the machine's PostgreSQL when it is
# down, and creates and drops its own databases on
# $SCHEMAFORGE_TEST_POSTGRES_URL (else $DATABASE_URL, else postgres://postgres@127.0.0.1:5432/postgres).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
. scripts/lib.sh

SIZES=10,100,1000,5000
RUNS=""
PROFILE=release
KIT_TIMEOUT=120
WORK=""
QUICK=0
OPERATIONS=generate,migrate,pull
while [ $# -gt 0 ]; do
  case "$1" in
    --sizes) SIZES=$2; shift 2 ;;
    --runs) RUNS=$2; shift 2 ;;
    --profile) PROFILE=$2; shift 2 ;;
    --kit-timeout) KIT_TIMEOUT=$2; shift 2 ;;
    --work) WORK=$2; shift 2 ;;
    --operations) OPERATIONS=$2; shift 2 ;;
    --quick) QUICK=1; SIZES=10; RUNS=1; PROFILE=debug; shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "unknown argument: $1 (see --help)" >&2; exit 2 ;;
  esac
done
case "$PROFILE" in release|debug) ;; *) echo "--profile is release or debug" >&2; exit 2 ;; esac

TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
WORK=${WORK:-$TARGET_DIR/bench-compare}
PG_URL="${SCHEMAFORGE_TEST_POSTGRES_URL:-${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}}"
KIT="$ROOT/oracle/node_modules/drizzle-kit/bin.cjs"
RUN_ID="sfb$(date +%s)_$$"

ensure_tool hyperfine hyperfine
ensure_tool jq jq
[ -x /usr/bin/time ] || ensure_tool /usr/bin/time time
ensure_postgres "$PG_URL"
ensure_oracle

log "building schemaforge ($PROFILE)"
if [ "$PROFILE" = release ]; then
  cargo build --release --locked -p schemaforge -p schemaforge-bench
else
  cargo build --locked -p schemaforge -p schemaforge-bench
fi
SF="$TARGET_DIR/$PROFILE/schemaforge"
SYNTH="$TARGET_DIR/$PROFILE/schemaforge-bench"

rm -rf "$WORK"
mkdir -p "$WORK/logs"
RESULTS="$WORK/results.tsv"
printf 'tables\toperation\ttool\tmedian_s\truns\tmax_rss_kib\tstatus\n' >"$RESULTS"

# Databases this run made; dropped on exit, whatever happens.
DATABASES=()
admin() { psql -X -q -v ON_ERROR_STOP=1 -d "$PG_URL" "$@"; }
database_url() { printf '%s/%s' "${PG_URL%/*}" "$1"; }
cleanup() {
  for db in "${DATABASES[@]}"; do
    admin -c "DROP DATABASE IF EXISTS \"$db\" WITH (FORCE)" >/dev/null 2>&1 || true
  done
}
trap cleanup EXIT

# The contenders of the next `race`: candidate TOOL PREPARE COMMAND [TIMEOUT].
C_TOOLS=(); C_PREPARES=(); C_COMMANDS=(); C_LIMITS=()
candidate() { C_TOOLS+=("$1"); C_PREPARES+=("$2"); C_COMMANDS+=("$3"); C_LIMITS+=("${4:-0}"); }

record() { # N OPERATION TOOL MEDIAN RUNS RSS STATUS
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$@" >>"$RESULTS"
}

# race N OPERATION: each candidate first runs once under /usr/bin/time (its
# peak RSS; also the warm-up, and the check that it works at all, within its
# timeout), then every candidate that passed runs once per round, the tools
# taking turns, for RUNS_FOR_SIZE rounds; the median of each is recorded.
# Taking turns matters on a shared machine: a burst of background load then
# slows every tool of a round, not all the runs of one of them.
race() {
  local n=$1 operation=$2 i round
  local -a live=() rss=()
  for i in "${!C_TOOLS[@]}"; do
    local tool=${C_TOOLS[$i]} limit=${C_LIMITS[$i]}
    local key="n${n}-${operation}-${tool}"
    local log_file="$WORK/logs/$key.log" rss_file="$WORK/logs/$key.rss" status=0
    bash -c "${C_PREPARES[$i]}" >"$log_file" 2>&1
    if [ "$limit" -gt 0 ]; then
      /usr/bin/time -f '%M' -o "$rss_file" timeout "$limit" bash -c "${C_COMMANDS[$i]}" </dev/null >>"$log_file" 2>&1 || status=$?
    else
      /usr/bin/time -f '%M' -o "$rss_file" bash -c "${C_COMMANDS[$i]}" </dev/null >>"$log_file" 2>&1 || status=$?
    fi
    rss[$i]=$(grep -E '^[0-9]+$' "$rss_file" | tail -1 || true)
    if [ "$status" = 124 ]; then
      record "$n" "$operation" "$tool" "" 0 "" "> ${limit}s"
      printf '  %-22s %-12s more than %s s (timed out)\n' "$operation" "$tool" "$limit"
    elif [ "$status" != 0 ]; then
      record "$n" "$operation" "$tool" "" 0 "" failed
      printf '  %-22s %-12s FAILED (exit %s), see %s:\n' "$operation" "$tool" "$status" "$log_file"
      tail -5 "$log_file" | sed 's/^/      /'
    else
      live+=("$i")
      : >"$WORK/logs/$key.times"
    fi
  done
  for round in $(seq 1 "$RUNS_FOR_SIZE"); do
    for i in "${live[@]}"; do
      local key="n${n}-${operation}-${C_TOOLS[$i]}"
      # Each timed run starts with nothing waiting to be written: a tool that
      # syncs its files (we do) must not pay for what the previous one, or the
      # copy just made, left unsynced.
      bash -c "${C_PREPARES[$i]}; sync" >>"$WORK/logs/$key.log" 2>&1
      if hyperfine --style none --runs 1 --export-json "$WORK/logs/$key.json" "${C_COMMANDS[$i]}" >>"$WORK/logs/$key.log" 2>&1; then
        jq -r '.results[0].times[0]' "$WORK/logs/$key.json" >>"$WORK/logs/$key.times"
      else
        echo failed >>"$WORK/logs/$key.times"
      fi
    done
  done
  for i in "${live[@]}"; do
    local tool=${C_TOOLS[$i]}
    local times="$WORK/logs/n${n}-${operation}-${tool}.times" median
    if grep -q failed "$times"; then
      record "$n" "$operation" "$tool" "" 0 "${rss[$i]}" failed
      printf '  %-22s %-12s FAILED in a timed run, see %s\n' "$operation" "$tool" "$WORK/logs/n${n}-${operation}-${tool}.log"
      continue
    fi
    median=$(sort -g "$times" | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }')
    record "$n" "$operation" "$tool" "$median" "$RUNS_FOR_SIZE" "${rss[$i]}" ok
    printf '  %-22s %-12s median %9.1f ms over %2s runs, peak RSS %6.1f MiB\n' "$operation" "$tool" \
      "$(jq -n "$median * 1000")" "$RUNS_FOR_SIZE" "$(jq -n "${rss[$i]:-0} / 1024")"
  done
  C_TOOLS=(); C_PREPARES=(); C_COMMANDS=(); C_LIMITS=()
}

# The status of a measurement already made ("ok", "failed", "> 120s").
# The latest wins: a database built for pull after a failed migrate is "built".
status_of() { awk -F'\t' -v n="$1" -v op="$2" -v tool="$3" '$1 == n && $2 == op && $3 == tool { s = $7 } END { print s }' "$RESULTS"; }

wanted() { [[ ",$OPERATIONS," == *",$1,"* ]]; }

kit_config() { # FILE SCHEMA OUT [URL]
  local credentials=""
  [ -n "${4:-}" ] && credentials=", dbCredentials: { url: \"$4\" }"
  printf 'export default { dialect: "postgresql", schema: "%s", out: "%s"%s };\n' "$2" "$3" "$credentials" >"$1"
}

log "PostgreSQL: $(admin -Atc "SELECT 'version ' || current_setting('server_version') || ', fsync ' || current_setting('fsync') || ', synchronous_commit ' || current_setting('synchronous_commit') || ', shared_buffers ' || current_setting('shared_buffers') || ', max_locks_per_transaction ' || current_setting('max_locks_per_transaction')")"
log "machine: $(nproc) cores, $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo), $(uname -sr)"

KIT_PULL_TIMED_OUT=""
IFS=',' read -r -a SIZE_LIST <<<"$SIZES"
for n in "${SIZE_LIST[@]}"; do
  if [ -n "$RUNS" ]; then
    RUNS_FOR_SIZE=$RUNS
  elif [ "$n" -le 100 ]; then
    RUNS_FOR_SIZE=10
  elif [ "$n" -le 1000 ]; then
    RUNS_FOR_SIZE=5
  else
    RUNS_FOR_SIZE=3
  fi
  W="$WORK/n$n"
  mkdir -p "$W"
  # drizzle-kit loads schema.ts, which imports drizzle-orm: resolve it from the pinned toolchain.
  ln -sfn "$ROOT/oracle/node_modules" "$W/node_modules"
  log "$n tables ($RUNS_FOR_SIZE runs each)"
  "$SYNTH" synth --tables "$n" --out "$W"
  # Reference outputs, made once: our initial folder (what migrate applies and
  # incremental runs start from), both schema.ts files, drizzle-kit's initial folder.
  "$SF" generate --schema "$W/base.json" --out "$W/ref-ours" >/dev/null
  "$SF" generate --schema "$W/edited.json" --out "$W/ref-edited" >/dev/null
  cp "$W/ref-ours/schema.ts" "$W/base.schema.ts"
  cp "$W/ref-edited/schema.ts" "$W/edited.schema.ts"
  kit_config "$W/kit-init.config.ts" ./base.schema.ts ./run-kit
  kit_config "$W/kit-ref.config.ts" ./base.schema.ts ./ref-kit
  kit_config "$W/kit-inc.config.ts" ./edited.schema.ts ./run-kit
  (cd "$W" && timeout "$KIT_TIMEOUT" node "$KIT" generate --config kit-ref.config.ts </dev/null >"$W/ref-kit.log" 2>&1) \
    || echo "  (drizzle-kit could not make its initial folder; see $W/ref-kit.log)"

  if wanted generate; then
    candidate schemaforge "rm -rf '$W/run-ours'" "'$SF' generate --schema '$W/base.json' --out '$W/run-ours'"
    candidate drizzle-kit "rm -rf '$W/run-kit'" "cd '$W' && node '$KIT' generate --config kit-init.config.ts" "$KIT_TIMEOUT"
    race "$n" generate-initial
    candidate schemaforge "rm -rf '$W/run-ours' && cp -r '$W/ref-ours' '$W/run-ours'" \
      "'$SF' generate --schema '$W/edited.json' --out '$W/run-ours'"
    candidate drizzle-kit "rm -rf '$W/run-kit' && cp -r '$W/ref-kit' '$W/run-kit'" \
      "cd '$W' && node '$KIT' generate --config kit-inc.config.ts" "$KIT_TIMEOUT"
    race "$n" generate-incremental
    # drizzle-kit asks before a change it cannot tell from a rename; the edits
    # avoid that, and this makes sure it wrote its migration instead of waiting.
    if [ "$(ls "$W/run-kit"/*.sql 2>/dev/null | wc -l)" != 2 ]; then
      echo "  warning: drizzle-kit's incremental run did not write a second migration; see $WORK/logs/n$n-generate-incremental-drizzle-kit.log"
    fi
  fi

  # Each tool applies the same SQL, our initial migration, to a fresh database per run.
  for tool in schemaforge drizzle-kit psql; do
    db="${RUN_ID}_${n}_${tool//-/_}"
    DATABASES+=("$db")
    url=$(database_url "$db")
    fresh="psql -X -q -d '$PG_URL' -c 'DROP DATABASE IF EXISTS \"$db\" WITH (FORCE)' -c 'CREATE DATABASE \"$db\"'"
    case "$tool" in
      schemaforge) candidate schemaforge "$fresh" "'$SF' migrate --db '$url' --dir '$W/ref-ours'" ;;
      drizzle-kit)
        kit_config "$W/kit-migrate.config.ts" ./base.schema.ts ./ref-ours "$url"
        candidate drizzle-kit "$fresh" "cd '$W' && node '$KIT' migrate --config kit-migrate.config.ts" "$KIT_TIMEOUT" ;;
      psql) candidate psql "$fresh" "psql -X -q -v ON_ERROR_STOP=1 -1 -d '$url' -f '$W/ref-ours/0000_init.sql'" ;;
    esac
  done
  pull_db_prepare=${C_PREPARES[2]}
  if wanted migrate; then
    race "$n" migrate
  else
    C_TOOLS=(); C_PREPARES=(); C_COMMANDS=(); C_LIMITS=()
  fi
  if wanted pull && [ "$(status_of "$n" migrate psql)" != ok ]; then
    # pull still needs a database holding the N tables. One transaction may
    # not hold that many (max_locks_per_transaction): build it statement by statement.
    url=$(database_url "${RUN_ID}_${n}_psql")
    bash -c "$pull_db_prepare" \
      && psql -X -q -v ON_ERROR_STOP=1 -d "$url" -f "$W/ref-ours/0000_init.sql" >"$WORK/logs/n$n-pull-database.log" 2>&1 \
      && record "$n" migrate psql "" 0 "" built
  fi

  # The database psql built last holds exactly the N tables (no bookkeeping tables).
  if wanted pull && [[ "$(status_of "$n" migrate psql)" == @(ok|built) ]]; then
    url=$(database_url "${RUN_ID}_${n}_psql")
    candidate schemaforge "rm -rf '$W/pull-ours'" "'$SF' pull --db '$url' --out '$W/pull-ours'"
    if [ -n "$KIT_PULL_TIMED_OUT" ]; then
      # It took longer than the timeout on fewer tables; it would again.
      record "$n" pull drizzle-kit "" 0 "" "> ${KIT_TIMEOUT}s"
      printf '  %-22s %-12s not run: over %s s already at %s tables\n' pull drizzle-kit "$KIT_TIMEOUT" "$KIT_PULL_TIMED_OUT"
    else
      kit_config "$W/kit-pull.config.ts" ./pull-kit/schema.ts ./pull-kit "$url"
      candidate drizzle-kit "rm -rf '$W/pull-kit'" "cd '$W' && node '$KIT' pull --config kit-pull.config.ts" "$KIT_TIMEOUT"
    fi
    race "$n" pull
    case "$(status_of "$n" pull drizzle-kit)" in '>'*) KIT_PULL_TIMED_OUT=${KIT_PULL_TIMED_OUT:-$n} ;; esac
  elif wanted pull; then
    echo "  pull: skipped (no database with $n tables: psql's migrate failed)"
  fi
  for db in "${RUN_ID}_${n}_schemaforge" "${RUN_ID}_${n}_drizzle_kit" "${RUN_ID}_${n}_psql"; do
    admin -c "DROP DATABASE IF EXISTS \"$db\" WITH (FORCE)" >/dev/null 2>&1 || true
  done
done

# The table: one row per size and operation, medians, ratios and peak memory.
awk -F'\t' '
  function ms(s) { return s == "" ? "" : sprintf("%.1f ms", s * 1000) }
  function cell(n, op, tool) { k = n SUBSEP op SUBSEP tool; return (k in status) ? (status[k] == "ok" ? ms(median[k]) : status[k]) : "" }
  function ratio(n, op, a, b,   ka, kb) {
    ka = n SUBSEP op SUBSEP a; kb = n SUBSEP op SUBSEP b
    if (!(ka in status) || !(kb in status) || status[ka] != "ok") return ""
    if (status[kb] == "ok" && median[kb] > 0) return sprintf("%.2f", median[ka] / median[kb])
    if (status[kb] ~ /^>/) { limit = substr(status[kb], 3) + 0; return sprintf("< %.4f", median[ka] / limit) }
    return ""
  }
  function mem(n, op, tool) { k = n SUBSEP op SUBSEP tool; return rss[k] == "" ? "" : sprintf("%.0f", rss[k] / 1024) }
  NR > 1 && $7 != "built" {
    k = $1 SUBSEP $2 SUBSEP $3; median[k] = $4; rss[k] = $6; status[k] = $7
    if (!($1 SUBSEP $2 in seen)) { seen[$1 SUBSEP $2] = 1; rows[++count] = $1 SUBSEP $2 }
  }
  END {
    print "| tables | operation | schemaforge | drizzle-kit | psql -1 -f | ours / drizzle-kit | ours / psql | drizzle-kit / psql | peak RSS MiB (ours / kit / psql) |"
    print "|---:|---|---:|---:|---:|---:|---:|---:|---:|"
    for (i = 1; i <= count; i++) {
      split(rows[i], p, SUBSEP); n = p[1]; op = p[2]
      printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s / %s / %s |\n", n, op,
        cell(n, op, "schemaforge"), cell(n, op, "drizzle-kit"), cell(n, op, "psql"),
        ratio(n, op, "schemaforge", "drizzle-kit"), ratio(n, op, "schemaforge", "psql"), ratio(n, op, "drizzle-kit", "psql"),
        mem(n, op, "schemaforge"), mem(n, op, "drizzle-kit"), mem(n, op, "psql")
    }
  }' "$RESULTS" >"$WORK/results.md"

log "results (medians; ratios below 1 mean schemaforge is faster)"
cat "$WORK/results.md"
echo
echo "raw results: $RESULTS; logs: $WORK/logs"
if [ "$QUICK" = 1 ] && grep -q 'failed' "$RESULTS"; then
  echo "a command failed (see above)" >&2
  exit 1
fi
