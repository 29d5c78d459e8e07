# Shared set-up for the scripts: sourced, not run.

log() { printf '\n== %s\n' "$*"; }

# pg_query (the real PostgreSQL grammar) builds its bindings with bindgen,
# which needs libclang and clang's headers at build time.
ensure_libclang() {
  # libclang itself (not libclang-cpp, which other packages pull in) and
  # clang's own headers (stddef.h), which bindgen needs as well.
  if compgen -G "/usr/lib/llvm-*/lib/libclang.so*" >/dev/null && compgen -G "/usr/lib/llvm-*/lib/clang/*/include/stddef.h" >/dev/null; then
    return
  fi
  log "installing libclang (needed to build the PostgreSQL grammar)"
  local sudo=""
  if [ "$(id -u)" != 0 ]; then sudo="sudo"; fi
  $sudo apt-get install -y --no-install-recommends libclang1-14 libclang-common-14-dev >/dev/null \
    || { $sudo apt-get update >/dev/null && $sudo apt-get install -y --no-install-recommends libclang1-14 libclang-common-14-dev >/dev/null; }
}
