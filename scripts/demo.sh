#!/usr/bin/env bash
# The main job, end to end, with nothing but this repository: validate a
# definition and generate its Drizzle schema.ts and drizzle-kit migration
# folder. Usage: scripts/demo.sh [definition.json] (default: the seed example).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
ensure_libclang

definition="${1:-fixtures/examples/seed-basic.json}"
out="demo-output/$(basename "$definition" .json)"

log "building schemaforge"
cargo build --quiet --locked -p schemaforge

log "validating $definition"
./target/debug/schemaforge validate "$definition"

log "generating into $out"
rm -rf "$out"
./target/debug/schemaforge generate --schema "$definition" --out "$out"

log "$out/0000_init.sql"
cat "$out/0000_init.sql"; echo
log "artifacts"
find "$out" -type f | sort
