#!/usr/bin/env bash
# The main job, end to end, with nothing but this repository: no database
# server, no configuration. Builds schemaforge, then `schemaforge demo`
# starts the service on its SQLite default with its data in demo-output/ (on
# a free port, with an admin token made for the run), sends a definition to
# POST /schema/generate (the seed example unless one is given), prints the
# version, migration and schema.ts it answers and where the artifacts are,
# and stops the service.
#
# Usage: scripts/demo.sh [definition.json]   (e.g. fixtures/sqlite/blog.v1.json)
# DEMO_OUTPUT changes the data directory; SCHEMAFORGE_BIN runs that binary
# instead of building one (the test of this script uses both).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

out="${DEMO_OUTPUT:-demo-output}"
bin="${SCHEMAFORGE_BIN:-}"
if [ -z "$bin" ]; then
  ensure_libclang
  log "building schemaforge"
  cargo build --quiet --locked -p schemaforge
  bin="${CARGO_TARGET_DIR:-target}/debug/schemaforge"
fi

log "schemaforge demo"
rm -rf "$out"
"$bin" demo ${1:+"$1"} --data-dir "$out"
