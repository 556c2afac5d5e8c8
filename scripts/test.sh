#!/usr/bin/env bash
# THE test command (README, CI): bash scripts/test.sh [extra jest arguments]
#
# Works on a fresh Debian machine that has only Node.js + npm (and Go, to build FerretDB once):
#   1. pnpm 12.4.2 (installed if missing)     2. pnpm install --frozen-lockfile (brings Node 24)
#   3. local services (scripts/services.sh)   4. pnpm run check (typecheck, lint, import cycles)
#   5. pnpm test (jest, all projects, in band)
#
# Environment:
#   REDIS_URL / MONGO_URL         use these servers instead of starting local ones
#   INNER_TALK_SKIP_INSTALL=1     skip `pnpm install` (node_modules already current)
#   INNER_TALK_SKIP_CHECK=1       skip `pnpm run check`
#   INNER_TALK_KEEP_SERVICES=0|1  stop (0) or keep (1) services this run started; default: stop when CI=true
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
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

# Anything that could prompt must not: there is no terminal in CI.
exec </dev/null

# ---------------------------------------------------------------------------------------------------
section "pnpm $PNPM_VERSION"
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
if ! command -v pnpm >/dev/null 2>&1; then
  command -v npm >/dev/null 2>&1 || fail "neither pnpm nor npm found: install Node.js (with npm) first"
  echo "pnpm not found; installing pnpm@$PNPM_VERSION"
  install_pnpm
fi
PNPM_FOUND=$(pnpm --version) || fail "pnpm does not run"
echo "pnpm $PNPM_FOUND at $(command -v pnpm) (system node $(node --version 2>/dev/null || echo 'not found'))"
[[ "$PNPM_FOUND" == "$PNPM_VERSION" ]] || echo "note: package.json pins pnpm@$PNPM_VERSION; pnpm $PNPM_FOUND may switch to it by itself"
done_step

# ---------------------------------------------------------------------------------------------------
section "pnpm install --frozen-lockfile"
if [[ "${INNER_TALK_SKIP_INSTALL:-0}" == 1 ]]; then
  echo "skipped (INNER_TALK_SKIP_INSTALL=1)"
else
  # confirmModulesPurge=false: never ask before recreating node_modules (no terminal here).
  pnpm install --frozen-lockfile --config.confirmModulesPurge=false || fail "pnpm install --frozen-lockfile (is pnpm-lock.yaml up to date with the package.json files?)"
fi
echo "node for the project: $(pnpm exec node --version)"
done_step

# ---------------------------------------------------------------------------------------------------
section "services (scripts/services.sh up)"
KEEP_SERVICES=${INNER_TALK_KEEP_SERVICES:-}
if [[ -z "$KEEP_SERVICES" ]]; then
  if [[ "${CI:-}" == true || "${CI:-}" == 1 ]]; then KEEP_SERVICES=0; else KEEP_SERVICES=1; fi
fi
if [[ "$KEEP_SERVICES" == 0 ]]; then
  # `down` stops only what services.sh started from this checkout (its pid files), never reused servers.
  trap 'echo; echo "stopping services started for this run"; bash "$ROOT/scripts/services.sh" down || true' EXIT
fi
bash scripts/services.sh up >/dev/null || fail "scripts/services.sh up (see the messages above)"
# shellcheck disable=SC1091
source "$RUN_DIR/services.env"
echo "REDIS_URL=$REDIS_URL"
echo "MONGO_URL=$MONGO_URL"
done_step

# ---------------------------------------------------------------------------------------------------
section "pnpm run check (typecheck, lint, import cycles)"
if [[ "${INNER_TALK_SKIP_CHECK:-0}" == 1 ]]; then
  echo "skipped (INNER_TALK_SKIP_CHECK=1)"
else
  pnpm run check || fail "pnpm run check"
fi
done_step

# ---------------------------------------------------------------------------------------------------
section "pnpm test (jest, all projects, runInBand)"
RESULTS="$RUN_DIR/jest-results.json"
rm -f "$RESULTS"
set +e
pnpm test --ci --json --outputFile="$RESULTS" "$@"
TEST_RC=$?
set -e
# A plain closing line for whoever reads the log: "jest: N passed, N failed[, N skipped]".
if [[ -s "$RESULTS" ]]; then
  # shellcheck disable=SC2016 # JavaScript, not shell
  pnpm exec node -e '
    const r = require(process.argv[1]);
    const skipped = r.numPendingTests + r.numTodoTests;
    console.log(`jest: ${r.numPassedTests} passed, ${r.numFailedTests} failed` + (skipped ? `, ${skipped} skipped` : ""));
    if (r.numFailedTestSuites && !r.numFailedTests) console.log(`(${r.numFailedTestSuites} test suites failed to run)`);
  ' "$RESULTS" || true
fi
[[ $TEST_RC -eq 0 ]] || fail "pnpm test (exit code $TEST_RC)"
done_step

printf '\nALL CHECKS AND TESTS PASSED\n'
