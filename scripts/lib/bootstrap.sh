# Shared set-up of scripts/test.sh and scripts/start.sh: the repository root as working directory,
# step headers, pnpm, and the packages. Source it, then call `ensure_pnpm` and `install_packages`.

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
RUN_DIR="$ROOT/.run"
PNPM_VERSION=12.4.2
mkdir -p "$RUN_DIR"

STEP_STARTED=$SECONDS
section() {
  printf '\n========== %s ==========\n' "$*"
  STEP_STARTED=$SECONDS
}
done_step() { printf -- '---------- ok (%ss)\n' "$((SECONDS - STEP_STARTED))"; }
fail() {
  printf '\nFAILED: %s\n' "$*" >&2
  exit 1
}

install_pnpm() {
  if npm install -g "pnpm@$PNPM_VERSION" --no-fund --no-audit; then
    hash -r
    command -v pnpm >/dev/null 2>&1 && return 0
  fi
  echo "global install of pnpm failed or is not on PATH; installing into .run/pnpm"
  if npm install --prefix "$RUN_DIR/pnpm" --no-save --no-package-lock --no-fund --no-audit "pnpm@$PNPM_VERSION"; then
    export PATH="$RUN_DIR/pnpm/node_modules/.bin:$PATH"
    command -v pnpm >/dev/null 2>&1 && return 0
  fi
  echo "local install failed too; using npx -y pnpm@$PNPM_VERSION through a shim"
  mkdir -p "$RUN_DIR/shims"
  printf '#!/usr/bin/env bash\nexec npx -y pnpm@%s "$@"\n' "$PNPM_VERSION" >"$RUN_DIR/shims/pnpm"
  chmod +x "$RUN_DIR/shims/pnpm"
  export PATH="$RUN_DIR/shims:$PATH"
}

# ensure_pnpm: pnpm $PNPM_VERSION on PATH (installed if missing).
ensure_pnpm() {
  section "pnpm $PNPM_VERSION"
  if ! command -v pnpm >/dev/null 2>&1; then
    command -v npm >/dev/null 2>&1 || fail "neither pnpm nor npm found: install Node.js (with npm) first"
    echo "pnpm not found; installing pnpm@$PNPM_VERSION"
    install_pnpm
  fi
  PNPM_FOUND=$(pnpm --version) || fail "pnpm does not run"
  echo "pnpm $PNPM_FOUND at $(command -v pnpm) (system node $(node --version 2>/dev/null || echo 'not found'))"
  [[ "$PNPM_FOUND" == "$PNPM_VERSION" ]] || echo "note: package.json pins pnpm@$PNPM_VERSION; pnpm $PNPM_FOUND may switch to it by itself"
  done_step
}

# install_packages: the workspace's packages exactly as the lockfile says (this brings Node 24).
install_packages() {
  section "pnpm install --frozen-lockfile"
  if [[ "${INNER_TALK_SKIP_INSTALL:-0}" == 1 ]]; then
    echo "skipped (INNER_TALK_SKIP_INSTALL=1)"
  else
    # confirmModulesPurge=false: never ask before recreating node_modules (no terminal here).
    pnpm install --frozen-lockfile --config.confirmModulesPurge=false || fail "pnpm install --frozen-lockfile (is pnpm-lock.yaml up to date with the package.json files?)"
  fi
  echo "node for the project: $(pnpm exec node --version)"
  done_step
}
