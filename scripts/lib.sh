# Shared set-up for the scripts: sourced, not run.

log() { printf '\n== %s\n' "$*"; }

# pg_query (the real PostgreSQL grammar) builds its bindings with bindgen,
# which needs libclang and clang's headers at build time.
ensure_libclang() {
  if ls /usr/lib/x86_64-linux-gnu/libclang-*.so* /usr/lib/llvm-*/lib/libclang*.so* >/dev/null 2>&1; then
    return
  fi
  log "installing libclang (needed to build the PostgreSQL grammar)"
  local sudo=""
  if [ "$(id -u)" != 0 ]; then sudo="sudo"; fi
  $sudo apt-get install -y --no-install-recommends libclang1-14 libclang-common-14-dev >/dev/null \
    || { $sudo apt-get update >/dev/null && $sudo apt-get install -y --no-install-recommends libclang1-14 libclang-common-14-dev >/dev/null; }
}
