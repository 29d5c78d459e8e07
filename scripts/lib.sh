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

# Runs apt-get install for Debian packages, as root or through sudo.
apt_install() {
  local sudo=""
  if [ "$(id -u)" != 0 ]; then sudo="sudo"; fi
  $sudo apt-get install -y --no-install-recommends "$@" >/dev/null \
    || { $sudo apt-get update >/dev/null && $sudo apt-get install -y --no-install-recommends "$@" >/dev/null; }
}

# ensure_tool COMMAND PACKAGE: installs the Debian package when the command is missing.
ensure_tool() {
  if ! command -v "$1" >/dev/null 2>&1; then
    log "installing $2"
    apt_install "$2"
  fi
}

# ensure_postgres URL: starts the machine's own PostgreSQL when nothing answers at URL.
ensure_postgres() {
  local url=$1
  if command -v pg_isready >/dev/null && ! pg_isready -q -d "$url"; then
    log "starting PostgreSQL"
    for version in $(ls /etc/postgresql 2>/dev/null); do
      pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
    done
    for _ in $(seq 1 30); do pg_isready -q -d "$url" && break; sleep 1; done
    pg_isready -d "$url"
  fi
}

# The real drizzle toolchain (drizzle-kit, drizzle-orm, TypeScript), pinned by oracle/package-lock.json.
ensure_oracle() {
  if [ ! -f oracle/node_modules/.package-lock.json ] || [ oracle/package-lock.json -nt oracle/node_modules/.package-lock.json ]; then
    log "installing the drizzle toolchain (npm ci)"
    # better-sqlite3 compiles from source here (its prebuilt binaries are not
    # reachable): point node-gyp at the machine's Node.js headers.
    if [ -z "${npm_config_nodedir:-}" ] && [ -f /usr/include/node/node.h ]; then export npm_config_nodedir=/usr; fi
    npm ci --prefix oracle --no-audit --no-fund --loglevel=error
  fi
}

# The address `schemaforge serve` (process $1) printed into the file $2, once
# it is listening; empty when it exited or did not print one within $3 tenths
# of a second.
serve_address() {
  local pid=$1 out=$2 tries=$3 addr=""
  for _ in $(seq 1 "$tries"); do
    addr=$(sed -n 's|.*listening on http://||p' "$out" | head -1)
    [ -n "$addr" ] && break
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  printf '%s' "$addr"
}
