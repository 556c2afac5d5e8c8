#!/usr/bin/env bash
# A Docker engine of our own for the compose test and for building the image on this machine kind.
# Idempotent: reuses the engine it started earlier (same socket), installs only what is missing.
#
#   bash scripts/docker/engine.sh up       install (Debian docker.io, debootstrap), start dockerd,
#                                          build Compose v2 if missing; print `export` lines
#   bash scripts/docker/engine.sh down     stop the dockerd this script started
#   bash scripts/docker/engine.sh env      print the `export` lines only
#
# The engine keeps its data, exec root, socket and log under INNER_TALK_DOCKER_DIR
# (/var/lib/inner-talk-docker), apart from any system engine. It runs without iptables and NAT:
# containers reach each other and the host's published ports, nothing outside. Builds that need the
# npm registry run with `--network host` (the host's network and CA bundle).
set -euo pipefail

DIR="${INNER_TALK_DOCKER_DIR:-/var/lib/inner-talk-docker}"
SOCK="$DIR/docker.sock"
PIDFILE="$DIR/dockerd.pid"
LOG="$DIR/dockerd.log"
CONFIG_DIR="$DIR/config"
COMPOSE_VERSION="v2.29.7"

log() { printf '[docker] %s\n' "$*" >&2; }
die() {
  printf '[docker] ERROR: %s\n' "$*" >&2
  exit 1
}

[[ "$(id -u)" -eq 0 ]] || die "dockerd needs root"

print_env() {
  printf 'export DOCKER_HOST=%q\n' "unix://$SOCK"
  printf 'export DOCKER_CONFIG=%q\n' "$CONFIG_DIR"
  # The legacy builder: BuildKit is not packaged with Debian's engine here, and `--network host`
  # builds (npm registry) work with it as they are.
  printf 'export DOCKER_BUILDKIT=0\n'
  printf 'export INNER_TALK_DOCKER=%q\n' "$(docker_bin)"
}

# Debian's client matches Debian's engine (API 1.41); another `docker` on PATH may be newer.
docker_bin() { if [[ -x /usr/bin/docker ]]; then echo /usr/bin/docker; else command -v docker; fi; }

APT_UPDATED=0
apt_install() {
  if [[ $APT_UPDATED -eq 0 ]]; then
    log "apt-get update"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2 || die "apt-get update failed"
    APT_UPDATED=1
  fi
  log "apt-get install -y $*"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >&2 || die "apt-get install $* failed"
}

engine_answers() { DOCKER_HOST="unix://$SOCK" timeout 10 "$(docker_bin)" version >/dev/null 2>&1; }

ensure_packages() {
  local missing=()
  command -v dockerd >/dev/null 2>&1 || missing+=(docker.io)
  command -v debootstrap >/dev/null 2>&1 || missing+=(debootstrap)
  [[ ${#missing[@]} -eq 0 ]] || apt_install "${missing[@]}"
}

start_engine() {
  if engine_answers; then
    log "engine: reusing dockerd on $SOCK"
    return 0
  fi
  mkdir -p "$DIR/data" "$DIR/exec" "$CONFIG_DIR"
  if [[ -f "$PIDFILE" ]] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null; then
    log "engine: dockerd pid $(cat "$PIDFILE") is alive but does not answer; waiting for it"
  else
    rm -f "$SOCK" "$PIDFILE"
    log "engine: starting dockerd (data, exec root, socket and log in $DIR)"
    # fd 9 (our lock) closed for the daemon, or it would hold the lock for its whole life.
    # --default-ulimit: the engine otherwise hands containers its own, much higher, open-file limit.
    setsid nohup dockerd \
      --data-root "$DIR/data" --exec-root "$DIR/exec" --pidfile "$PIDFILE" -H "unix://$SOCK" \
      --iptables=false --ip-masq=false --storage-driver overlay2 \
      --default-ulimit nofile=20000:20000 \
      </dev/null >>"$LOG" 2>&1 9>&- &
  fi
  local deadline=$((SECONDS + 60))
  until engine_answers; do
    ((SECONDS < deadline)) || {
      tail -n 30 "$LOG" >&2
      die "dockerd did not answer on $SOCK within 60 s; see $LOG"
    }
    sleep 0.5
  done
  log "engine: ready ($(DOCKER_HOST="unix://$SOCK" "$(docker_bin)" version --format '{{.Server.Version}}'))"
}

# Compose v2 as a CLI plugin of our DOCKER_CONFIG (Debian's docker-compose 1.29 is the fallback).
ensure_compose() {
  local plugin="$CONFIG_DIR/cli-plugins/docker-compose"
  # `go install` builds report their version as "dev": a stamp file records which one we built.
  if [[ -x "$plugin" && "$(cat "$plugin.version" 2>/dev/null || true)" == "$COMPOSE_VERSION" ]]; then return 0; fi
  command -v go >/dev/null 2>&1 || die "go not found: needed to build Docker Compose $COMPOSE_VERSION"
  log "compose: building Docker Compose $COMPOSE_VERSION with $(go version | awk '{print $3}') (minutes on a fresh machine)"
  local gobin="$DIR/gobin"
  mkdir -p "$gobin" "$CONFIG_DIR/cli-plugins"
  (cd / && GOTOOLCHAIN=local GOFLAGS=-buildvcs=false GOBIN="$gobin" go install "github.com/docker/compose/v2/cmd@$COMPOSE_VERSION") >&2 ||
    die "building Docker Compose failed"
  install -m 0755 "$gobin/cmd" "$plugin"
  echo "$COMPOSE_VERSION" >"$plugin.version"
}

stop_engine() {
  if [[ -f "$PIDFILE" ]] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null; then
    local pid
    pid=$(cat "$PIDFILE")
    log "engine: stopping dockerd pid $pid"
    kill -TERM "$pid"
    local deadline=$((SECONDS + 30))
    while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.5; done
  else
    log "engine: no dockerd started here"
  fi
}

case "${1:-}" in
  up)
    mkdir -p "$DIR"
    exec 9>"$DIR/up.lock"
    flock -w 900 9 || die "timed out waiting for another engine.sh"
    ensure_packages
    start_engine
    ensure_compose
    print_env
    ;;
  down) stop_engine ;;
  env) print_env ;;
  *)
    awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "${BASH_SOURCE[0]}" >&2
    exit 2
    ;;
esac
