#!/usr/bin/env bash
# Local services for tests, the local demo and benchmarks: Redis (BullMQ) and a MongoDB wire-protocol
# server (FerretDB on SQLite). Idempotent: reuses whatever already answers, starts only what is missing.
#
#   bash scripts/services.sh up [component...]      ensure running, write .run/services.env, print `export` lines
#   bash scripts/services.sh down [component...]    stop what this script started (pid files under .run/)
#   bash scripts/services.sh status [component...]  print state; exit 1 if a component does not answer
#   bash scripts/services.sh env [component...]     print the `export` lines only (no checks, starts nothing)
#
# Components: redis, mongo (default: both); optional: prometheus (only when named). Typical use:
#   bash scripts/services.sh up && source .run/services.env     # or: eval "$(bash scripts/services.sh up)"
#
# Environment:
#   REDIS_URL / MONGO_URL                     use these servers as they are; nothing is checked or started
#   INNER_TALK_REDIS_PORT (6390)              port of the local Redis
#   INNER_TALK_MONGO_PORT (27090)             port of the local FerretDB
#   FERRETDB_BIN                              a working ferretdb binary to use instead of finding/building one
#   PROMETHEUS_BIN / PROMTOOL_BIN             prometheus and promtool binaries to use (default: from PATH)
#
# `prometheus` only makes sure the Prometheus server and promtool are installed (the Debian package,
# if missing) and exports PROMETHEUS_BIN / PROMTOOL_BIN; it starts no server: a test starts its own
# Prometheus with a generated config pointing at the metrics app it runs.
#
# Adding a component (e.g. prometheus): write <name>_up, <name>_down, <name>_status and <name>_env
# (prints KEY=VALUE lines), then add the name to ALL_COMPONENTS (started by default) or
# OPTIONAL_COMPONENTS (started only when named: `services.sh up prometheus`).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
RUN_DIR="$ROOT/.run"
ENV_FILE="$RUN_DIR/services.env"
REDIS_PORT="${INNER_TALK_REDIS_PORT:-6390}"
MONGO_PORT="${INNER_TALK_MONGO_PORT:-27090}"
FERRETDB_MODULE="github.com/FerretDB/FerretDB"
FERRETDB_VERSION="v1.24.2"

ALL_COMPONENTS=(redis mongo)
OPTIONAL_COMPONENTS=(prometheus)

log() { printf '[services] %s\n' "$*" >&2; }
die() {
  printf '[services] ERROR: %s\n' "$*" >&2
  exit 1
}

# ---------------------------------------------------------------------------------------------------
# Generic helpers
# ---------------------------------------------------------------------------------------------------

# port_open PORT: something accepts TCP connections on 127.0.0.1:PORT.
port_open() {
  # shellcheck disable=SC2016 # $1 is expanded by the inner bash
  timeout 3 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$1"' _ "$1" 2>/dev/null
}

# wait_until SECONDS CMD...: retry CMD every 0.2s until it succeeds or SECONDS elapse.
wait_until() {
  local deadline=$((SECONDS + $1))
  shift
  until "$@"; do
    ((SECONDS < deadline)) || return 1
    sleep 0.2
  done
}

# pid_alive PIDFILE NAME: the pid in PIDFILE is alive and its command line mentions NAME.
pid_alive() {
  local pidfile=$1 name=$2 pid
  [[ -f "$pidfile" ]] || return 1
  pid=$(tr -dc '0-9' <"$pidfile")
  [[ -n "$pid" ]] || return 1
  kill -0 "$pid" 2>/dev/null || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q -- "$name"
}

# stop_pidfile PIDFILE NAME LABEL: stop the process recorded in PIDFILE (TERM, then KILL after 15s).
stop_pidfile() {
  local pidfile=$1 name=$2 label=$3 pid
  if ! pid_alive "$pidfile" "$name"; then
    if [[ -f "$pidfile" ]]; then
      log "$label: removing stale pid file $pidfile"
      rm -f "$pidfile"
    else
      log "$label: not started by this script here (nothing to stop)"
    fi
    return 0
  fi
  pid=$(tr -dc '0-9' <"$pidfile")
  log "$label: stopping pid $pid"
  kill -TERM "$pid" 2>/dev/null || true
  local deadline=$((SECONDS + 15))
  while kill -0 "$pid" 2>/dev/null; do
    if ((SECONDS >= deadline)); then
      log "$label: pid $pid ignored SIGTERM for 15s; sending SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
      break
    fi
    sleep 0.2
  done
  rm -f "$pidfile"
}

# detached_exec CMD...: exec CMD with every file descriptor above 2 closed, so a daemon does not keep
# our lock file or a caller's pipes open (a caller waiting for EOF on such a pipe would hang).
detached_exec() {
  local fd
  for fd in "/proc/$BASHPID/fd"/*; do
    fd=${fd##*/}
    [[ "$fd" =~ ^[0-9]+$ ]] && ((fd > 2)) && eval "exec $fd>&-" 2>/dev/null
  done
  exec "$@"
}

# as_root CMD...: run CMD as root (directly, or through non-interactive sudo).
as_root() {
  if [[ "$(id -u)" -eq 0 ]]; then
    "$@"
  elif command -v sudo >/dev/null 2>&1; then
    sudo -n "$@"
  else
    die "need root to run '$*' (not root and sudo is unavailable)"
  fi
}

APT_UPDATED=0
apt_install() {
  command -v apt-get >/dev/null 2>&1 || die "apt-get not found: cannot install $*"
  if [[ $APT_UPDATED -eq 0 ]]; then
    log "apt-get update"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2 || die "apt-get update failed"
    APT_UPDATED=1
  fi
  log "apt-get install -y $*"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >&2 ||
    die "apt-get install $* failed"
}

# ---------------------------------------------------------------------------------------------------
# Redis
# ---------------------------------------------------------------------------------------------------
REDIS_DIR="$RUN_DIR/redis"
REDIS_PIDFILE="$REDIS_DIR/redis.pid"
REDIS_LOG="$REDIS_DIR/redis.log"

redis_env() { printf 'REDIS_URL=%s\n' "${REDIS_URL:-redis://127.0.0.1:$REDIS_PORT}"; }

# redis_ping PORT: a Redis on 127.0.0.1:PORT answers PING with +PONG (no client binary needed).
redis_ping() {
  # shellcheck disable=SC2016 # expanded by the inner bash
  timeout 3 bash -c '
    exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 1
    printf "PING\r\n" >&3
    IFS= read -r -t 2 reply <&3 || exit 1
    [[ "$reply" == +PONG* ]]' _ "$1" 2>/dev/null
}

redis_up() {
  if [[ -n "${REDIS_URL:-}" ]]; then
    log "redis: using REDIS_URL from the environment ($REDIS_URL)"
    return 0
  fi
  if redis_ping "$REDIS_PORT"; then
    log "redis: reusing the server answering on 127.0.0.1:$REDIS_PORT"
    return 0
  fi
  if port_open "$REDIS_PORT"; then
    die "redis: 127.0.0.1:$REDIS_PORT accepts connections but does not answer PING (another program, or a Redis with a password): stop it, or set INNER_TALK_REDIS_PORT or REDIS_URL"
  fi
  if ! command -v redis-server >/dev/null 2>&1; then
    log "redis: redis-server not found; installing the Debian package"
    apt_install redis-server
    command -v redis-server >/dev/null 2>&1 || die "redis-server still not found after installing it: install Redis >= 6.2 or set REDIS_URL"
  fi
  mkdir -p "$REDIS_DIR"
  if pid_alive "$REDIS_PIDFILE" redis-server; then
    log "redis: a redis-server we started earlier is alive but not answering; restarting it"
    stop_pidfile "$REDIS_PIDFILE" redis-server redis
  fi
  rm -f "$REDIS_PIDFILE"
  log "redis: starting $(redis-server --version | sed -n 's/.* v=\([^ ]*\).*/\1/p') on 127.0.0.1:$REDIS_PORT (data and log in ${REDIS_DIR#"$ROOT"/})"
  # appendonly + noeviction: what BullMQ needs (queues must not lose or evict keys).
  (detached_exec redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --daemonize yes \
    --pidfile "$REDIS_PIDFILE" --logfile "$REDIS_LOG" --dir "$REDIS_DIR" \
    --appendonly yes --appendfsync everysec --maxmemory-policy noeviction --save "" \
    >&2) || die "redis: redis-server failed to start; see $REDIS_LOG"
  if ! wait_until 20 redis_ping "$REDIS_PORT"; then
    tail -n 20 "$REDIS_LOG" >&2 2>/dev/null || true
    die "redis: no answer to PING on 127.0.0.1:$REDIS_PORT within 20s; see $REDIS_LOG"
  fi
  log "redis: ready (pid $(cat "$REDIS_PIDFILE" 2>/dev/null || echo '?'))"
}

redis_down() { stop_pidfile "$REDIS_PIDFILE" redis-server redis; }

redis_status() {
  local url
  url=$(redis_env)
  url=${url#REDIS_URL=}
  if [[ -n "${REDIS_URL:-}" ]]; then
    printf 'redis: %s (from REDIS_URL; not checked)\n' "$url"
    return 0
  fi
  local owner="not started by services.sh"
  pid_alive "$REDIS_PIDFILE" redis-server && owner="started by services.sh, pid $(cat "$REDIS_PIDFILE")"
  if redis_ping "$REDIS_PORT"; then
    printf 'redis: up   %s (%s)\n' "$url" "$owner"
  else
    printf 'redis: DOWN %s (%s)\n' "$url" "$owner"
    return 1
  fi
}

# ---------------------------------------------------------------------------------------------------
# MongoDB wire protocol: FerretDB (SQLite backend)
# ---------------------------------------------------------------------------------------------------
FERRET_DIR="$RUN_DIR/ferretdb"
FERRET_PIDFILE="$FERRET_DIR/ferretdb.pid"
FERRET_LOG="$RUN_DIR/ferretdb.log"
FERRET_BIN_DIR="$RUN_DIR/bin"
FERRET_RUNNING_BUILD="$FERRET_DIR/running.build"

mongo_env() { printf 'MONGO_URL=%s\n' "${MONGO_URL:-mongodb://127.0.0.1:$MONGO_PORT}"; }

# A real MongoDB `ping` (OP_MSG {ping: 1, $db: "admin"}) with Node's net module only, so it works
# before `pnpm install` and with any Node version. Exit 0 when the reply says ok: 1.
# shellcheck disable=SC2016 # JavaScript, not shell
MONGO_PING_JS='
const net = require("net");
const [host, port] = process.argv.slice(1);
const i32 = (n) => { const b = Buffer.alloc(4); b.writeInt32LE(n); return b; };
const cstr = (s) => Buffer.concat([Buffer.from(s), Buffer.from([0])]);
const body = Buffer.concat([Buffer.from([0x10]), cstr("ping"), i32(1), Buffer.from([0x02]), cstr("$db"), i32(6), cstr("admin")]);
const doc = Buffer.concat([i32(body.length + 5), body, Buffer.from([0])]);
const payload = Buffer.concat([i32(0), Buffer.from([0]), doc]);
const msg = Buffer.concat([i32(16 + payload.length), i32(1), i32(0), i32(2013), payload]);
const fail = () => process.exit(1);
setTimeout(fail, 3000).unref();
const sock = net.connect(Number(port), host, () => sock.write(msg));
sock.on("error", fail);
let buf = Buffer.alloc(0);
sock.on("data", (d) => {
  buf = Buffer.concat([buf, d]);
  if (buf.length < 4 || buf.length < buf.readInt32LE(0)) return;
  if (buf.readInt32LE(12) !== 2013) fail();
  const dbl = buf.indexOf(Buffer.from([0x01, 0x6f, 0x6b, 0x00]), 21);
  const int = buf.indexOf(Buffer.from([0x10, 0x6f, 0x6b, 0x00]), 21);
  const ok = dbl > 0 ? buf.readDoubleLE(dbl + 4) : int > 0 ? buf.readInt32LE(int + 4) : 0;
  process.exit(ok === 1 ? 0 : 1);
});
'

# mongo_ping PORT: a MongoDB-compatible server on 127.0.0.1:PORT answers `ping`.
mongo_ping() {
  if command -v node >/dev/null 2>&1; then
    node -e "$MONGO_PING_JS" 127.0.0.1 "$1" 2>/dev/null
  else
    # No Node at all: accepting connections is the best we can check.
    port_open "$1"
  fi
}

ferretdb_works() { [[ -n "$1" && -x "$1" ]] && "$1" --version >/dev/null 2>&1; }

# The build we run: FerretDB $FERRETDB_VERSION plus the patches below. A binary in $FERRET_BIN_DIR is reused
# only if its stamp file names this exact build; anything else is rebuilt.
FERRETDB_BUILD="$FERRETDB_VERSION+sqlite-id-index"

# patch_ferretdb_source DIR: FerretDB 1.24's SQLite backend looks documents up by `_id` with the
# expression `_ferretdb_sjson->'$._id'`, but creates its unique `_id` index on `_ferretdb_sjson->"_id"`.
# SQLite uses an expression index only for the same expression, so every find, update and delete by
# `_id` scanned and decoded the whole collection (measured: 6 ms per find and 26 ms per update at
# 5,000 documents, growing linearly). `->'_id'` means the same JSON path and matches the index
# (EXPLAIN QUERY PLAN: SEARCH ... USING INDEX). The PostgreSQL backend of the same release already
# writes it this way.
patch_ferretdb_source() {
  local file="$1/internal/backends/sqlite/metadata/metadata.go"
  # shellcheck disable=SC2016 # Go source text, not shell
  sed -i 's|IDColumn = DefaultColumn + "->'"'"'\$\._id'"'"'"|IDColumn = DefaultColumn + "->'"'"'_id'"'"'"|' "$file"
  grep -q "IDColumn = DefaultColumn + \"->'_id'\"" "$file" ||
    die "mongo: could not apply the _id index patch to $file (has FerretDB $FERRETDB_VERSION changed?)"
}

# Build FerretDB from the Go module proxy. `go install ...@version` is NOT enough: the module has no
# build/version/version.txt (it is generated from git in FerretDB's own repo), and such a binary panics
# at start ("Invalid build/version/version.txt file content"). So: download the module, copy it,
# write version.txt, build.
build_ferretdb() {
  command -v go >/dev/null 2>&1 || die "go not found: install Go (>= 1.24) to build FerretDB, or set MONGO_URL to a running MongoDB-compatible server"
  export GOTOOLCHAIN=local GOFLAGS=-buildvcs=false
  log "mongo: building FerretDB $FERRETDB_VERSION with $(go version | awk '{print $3}') (a few minutes on a fresh machine)"
  local json dir src tmp_bin
  json=$(go mod download -json "$FERRETDB_MODULE@$FERRETDB_VERSION") ||
    die "mongo: 'go mod download $FERRETDB_MODULE@$FERRETDB_VERSION' failed (is the Go module proxy reachable?)"
  dir=$(printf '%s\n' "$json" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$/\1/p' | head -n 1)
  [[ -n "$dir" && -d "$dir" ]] || die "mongo: could not find the downloaded FerretDB module directory in: $json"
  mkdir -p "$RUN_DIR/build" "$FERRET_BIN_DIR"
  src="$RUN_DIR/build/ferretdb-src.$$"
  rm -rf "$src"
  cp -R "$dir" "$src"
  chmod -R u+w "$src"
  printf '%s\n' "$FERRETDB_VERSION" >"$src/build/version/version.txt"
  patch_ferretdb_source "$src"
  tmp_bin="$FERRET_BIN_DIR/.ferretdb.$$"
  if ! (cd "$src" && go build -trimpath -o "$tmp_bin" ./cmd/ferretdb) >&2; then
    rm -rf "$src" "$tmp_bin"
    die "mongo: building FerretDB failed (see the Go output above); or set MONGO_URL to a running MongoDB-compatible server"
  fi
  rm -rf "$src"
  mv -f "$tmp_bin" "$FERRET_BIN_DIR/ferretdb"
  ferretdb_works "$FERRET_BIN_DIR/ferretdb" || die "mongo: the FerretDB binary just built does not run: $FERRET_BIN_DIR/ferretdb --version"
  printf '%s\n' "$FERRETDB_BUILD" >"$FERRET_BIN_DIR/ferretdb.build"
  log "mongo: built $FERRET_BIN_DIR/ferretdb ($FERRETDB_BUILD)"
}

# ferretdb_build_label: which FerretDB `mongo_up` runs: our build, or the FERRETDB_BIN given.
ferretdb_build_label() {
  if [[ -n "${FERRETDB_BIN:-}" ]]; then printf 'FERRETDB_BIN=%s\n' "$FERRETDB_BIN"; else printf '%s\n' "$FERRETDB_BUILD"; fi
}

# find_ferretdb: print the path of the FerretDB binary to run: FERRETDB_BIN if set (used as it is),
# else our patched build in $FERRET_BIN_DIR, built first if missing or of another build. Other FerretDB
# binaries on the machine (PATH, Go's bin) are not used: they lack the patch above.
find_ferretdb() {
  if [[ -n "${FERRETDB_BIN:-}" ]]; then
    ferretdb_works "$FERRETDB_BIN" || die "mongo: FERRETDB_BIN=$FERRETDB_BIN does not run"
    printf '%s\n' "$FERRETDB_BIN"
    return 0
  fi
  local bin="$FERRET_BIN_DIR/ferretdb"
  if ferretdb_works "$bin" && [[ "$(cat "$FERRET_BIN_DIR/ferretdb.build" 2>/dev/null || true)" == "$FERRETDB_BUILD" ]]; then
    printf '%s\n' "$bin"
    return 0
  fi
  [[ -e "$bin" ]] && log "mongo: $bin is not the build $FERRETDB_BUILD; rebuilding it"
  build_ferretdb
  printf '%s\n' "$bin"
}

mongo_up() {
  if [[ -n "${MONGO_URL:-}" ]]; then
    log "mongo: using MONGO_URL from the environment ($MONGO_URL)"
    return 0
  fi
  # A FerretDB this script started from another build (e.g. one without the _id index patch) is
  # replaced rather than reused; a server we did not start is reused as it is.
  if pid_alive "$FERRET_PIDFILE" ferretdb && [[ "$(cat "$FERRET_RUNNING_BUILD" 2>/dev/null || true)" != "$(ferretdb_build_label)" ]]; then
    log "mongo: the FerretDB we started is not the build $(ferretdb_build_label); restarting it"
    stop_pidfile "$FERRET_PIDFILE" ferretdb mongo
  fi
  if mongo_ping "$MONGO_PORT"; then
    log "mongo: reusing the server answering ping on 127.0.0.1:$MONGO_PORT"
    return 0
  fi
  # A FerretDB we started a moment ago may still be opening its listener.
  if pid_alive "$FERRET_PIDFILE" ferretdb && wait_until 10 mongo_ping "$MONGO_PORT"; then
    log "mongo: reusing FerretDB pid $(cat "$FERRET_PIDFILE") on 127.0.0.1:$MONGO_PORT"
    return 0
  fi
  if pid_alive "$FERRET_PIDFILE" ferretdb; then
    log "mongo: the FerretDB we started earlier is alive but not answering; restarting it"
    stop_pidfile "$FERRET_PIDFILE" ferretdb mongo
  fi
  if port_open "$MONGO_PORT"; then
    die "mongo: 127.0.0.1:$MONGO_PORT accepts connections but does not answer a MongoDB ping: stop that program, or set INNER_TALK_MONGO_PORT or MONGO_URL"
  fi
  local bin
  bin=$(find_ferretdb)
  mkdir -p "$FERRET_DIR/data" "$FERRET_DIR/state"
  rm -f "$FERRET_PIDFILE"
  log "mongo: starting FerretDB ($bin) on 127.0.0.1:$MONGO_PORT (SQLite data in ${FERRET_DIR#"$ROOT"/}/data, log ${FERRET_LOG#"$ROOT"/})"
  local launcher=(nohup)
  command -v setsid >/dev/null 2>&1 && launcher=(setsid nohup)
  printf '\n=== %s: services.sh starting FerretDB on 127.0.0.1:%s ===\n' "$(date -u +%FT%TZ)" "$MONGO_PORT" >>"$FERRET_LOG"
  (detached_exec "${launcher[@]}" "$bin" --handler=sqlite --sqlite-url="file:$FERRET_DIR/data/" --state-dir="$FERRET_DIR/state" \
    --listen-addr="127.0.0.1:$MONGO_PORT" --telemetry=disable --debug-addr=- \
    </dev/null >>"$FERRET_LOG" 2>&1) &
  local pid=$!
  echo "$pid" >"$FERRET_PIDFILE"
  ferretdb_build_label >"$FERRET_RUNNING_BUILD"
  local deadline=$((SECONDS + 30))
  until mongo_ping "$MONGO_PORT"; do
    if ! kill -0 "$pid" 2>/dev/null; then
      tail -n 30 "$FERRET_LOG" >&2 || true
      rm -f "$FERRET_PIDFILE"
      die "mongo: FerretDB exited during start-up; see $FERRET_LOG"
    fi
    if ((SECONDS >= deadline)); then
      tail -n 30 "$FERRET_LOG" >&2 || true
      die "mongo: FerretDB (pid $pid) does not answer ping on 127.0.0.1:$MONGO_PORT after 30s; see $FERRET_LOG"
    fi
    sleep 0.2
  done
  log "mongo: ready (FerretDB pid $pid)"
}

mongo_down() { stop_pidfile "$FERRET_PIDFILE" ferretdb mongo; }

mongo_status() {
  local url
  url=$(mongo_env)
  url=${url#MONGO_URL=}
  if [[ -n "${MONGO_URL:-}" ]]; then
    printf 'mongo: %s (from MONGO_URL; not checked)\n' "$url"
    return 0
  fi
  local owner="not started by services.sh"
  pid_alive "$FERRET_PIDFILE" ferretdb && owner="FerretDB started by services.sh, pid $(cat "$FERRET_PIDFILE")"
  if mongo_ping "$MONGO_PORT"; then
    printf 'mongo: up   %s (%s)\n' "$url" "$owner"
  else
    printf 'mongo: DOWN %s (%s)\n' "$url" "$owner"
    return 1
  fi
}

# ---------------------------------------------------------------------------------------------------
# Prometheus and promtool (binaries only; see the header)
# ---------------------------------------------------------------------------------------------------

# prometheus_bins: print the prometheus and promtool paths (one per line), or fail if one is missing.
prometheus_bins() {
  local server tool
  server=${PROMETHEUS_BIN:-$(command -v prometheus 2>/dev/null || true)}
  tool=${PROMTOOL_BIN:-$(command -v promtool 2>/dev/null || true)}
  [[ -n "$server" && -x "$server" && -n "$tool" && -x "$tool" ]] || return 1
  printf '%s\n%s\n' "$server" "$tool"
}

prometheus_env() {
  local bins
  if bins=$(prometheus_bins); then
    printf 'PROMETHEUS_BIN=%s\nPROMTOOL_BIN=%s\n' "$(sed -n 1p <<<"$bins")" "$(sed -n 2p <<<"$bins")"
  else
    printf 'PROMETHEUS_BIN=%s\nPROMTOOL_BIN=%s\n' "${PROMETHEUS_BIN:-prometheus}" "${PROMTOOL_BIN:-promtool}"
  fi
}

prometheus_up() {
  if ! prometheus_bins >/dev/null; then
    [[ -z "${PROMETHEUS_BIN:-}${PROMTOOL_BIN:-}" ]] || die "prometheus: PROMETHEUS_BIN / PROMTOOL_BIN do not point at executables"
    log "prometheus: prometheus or promtool not found; installing the Debian package"
    # The package also ships a system service; where an init system starts it, it listens on :9090,
    # which nothing here uses (the tests start their own Prometheus on free ports).
    apt_install prometheus
    prometheus_bins >/dev/null || die "prometheus: prometheus/promtool still not found after installing the package"
  fi
  local bins
  bins=$(prometheus_bins)
  log "prometheus: $("$(sed -n 1p <<<"$bins")" --version 2>&1 | head -n 1) (no server started; tests run their own)"
}

prometheus_down() { log "prometheus: nothing to stop (services.sh starts no Prometheus server)"; }

prometheus_status() {
  local bins
  if bins=$(prometheus_bins); then
    printf 'prometheus: installed %s, %s\n' "$(sed -n 1p <<<"$bins")" "$(sed -n 2p <<<"$bins")"
  else
    printf 'prometheus: NOT INSTALLED (bash scripts/services.sh up prometheus installs it)\n'
    return 1
  fi
}

# ---------------------------------------------------------------------------------------------------
# Driver
# ---------------------------------------------------------------------------------------------------

# env_lines COMPONENT...: KEY=VALUE lines for the components.
env_lines() {
  local c
  for c in "$@"; do "${c}_env"; done
}

# print_exports COMPONENT...: `export KEY='VALUE'` lines (shell-quoted).
print_exports() {
  local line
  while IFS= read -r line; do
    printf 'export %s=%q\n' "${line%%=*}" "${line#*=}"
  done < <(env_lines "$@")
}

write_env_file() {
  mkdir -p "$RUN_DIR"
  local tmp="$ENV_FILE.$$"
  {
    echo "# Written by scripts/services.sh up on $(date -u +%FT%TZ). Use: source .run/services.env"
    # Always list every default component, so that `up redis` does not drop MONGO_URL.
    print_exports "${ALL_COMPONENTS[@]}" "$@"
  } | awk '!seen[$0]++' >"$tmp"
  mv -f "$tmp" "$ENV_FILE"
}

take_lock() {
  mkdir -p "$RUN_DIR"
  if command -v flock >/dev/null 2>&1; then
    exec 9>"$RUN_DIR/services.lock"
    # A first FerretDB build can take minutes; a second caller waits for it.
    flock -w 900 9 || die "timed out waiting for another services.sh (lock $RUN_DIR/services.lock)"
  fi
}

usage() {
  awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "${BASH_SOURCE[0]}" >&2
  exit 2
}

main() {
  local cmd=${1:-}
  [[ -n "$cmd" ]] || usage
  shift
  local components=("$@") c k known
  [[ ${#components[@]} -gt 0 ]] || components=("${ALL_COMPONENTS[@]}")
  for c in "${components[@]}"; do
    known=0
    for k in "${ALL_COMPONENTS[@]}" "${OPTIONAL_COMPONENTS[@]}"; do [[ "$c" == "$k" ]] && known=1; done
    ((known)) || die "unknown component '$c' (known: ${ALL_COMPONENTS[*]}${OPTIONAL_COMPONENTS[*]:+ ${OPTIONAL_COMPONENTS[*]}})"
  done

  case "$cmd" in
    up)
      take_lock
      for c in "${components[@]}"; do "${c}_up"; done
      write_env_file "${components[@]}"
      log "ready; environment written to ${ENV_FILE#"$ROOT"/} (source it, or eval this script's output)"
      print_exports "${components[@]}"
      ;;
    down)
      take_lock
      for c in "${components[@]}"; do "${c}_down"; done
      ;;
    status)
      local rc=0
      for c in "${components[@]}"; do "${c}_status" || rc=1; done
      return "$rc"
      ;;
    env)
      print_exports "${components[@]}"
      ;;
    -h | --help | help) usage ;;
    *)
      log "unknown command '$cmd'"
      usage
      ;;
  esac
}

main "$@"
