#!/usr/bin/env bash
# The compose test (README "Operations"): starts this machine's own Docker engine, builds the local
# base images (both cached between runs), then runs scripts/compose-test.ts against the project's
# Dockerfile and docker-compose.yml. Needs root (dockerd). Last line: `compose: N passed, N failed`.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
eval "$(bash scripts/docker/engine.sh up)"
bash scripts/docker/base-images.sh
exec pnpm exec tsx scripts/compose-test.ts
