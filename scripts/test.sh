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
#   INNER_TALK_SKIP_COMPOSE=1     skip the compose test (it needs root for the Docker engine)
set -euo pipefail

# shellcheck source=lib/bootstrap.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/bootstrap.sh"

# Anything that could prompt must not: there is no terminal in CI.
exec </dev/null

ensure_pnpm
install_packages

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
bash scripts/services.sh up redis mongo prometheus >/dev/null || fail "scripts/services.sh up (see the messages above)"
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

# ---------------------------------------------------------------------------------------------------
section "compose test (scripts/compose-test.sh)"
if [[ "${INNER_TALK_SKIP_COMPOSE:-0}" == 1 ]]; then
  echo "skipped (INNER_TALK_SKIP_COMPOSE=1)"
elif [[ "$(id -u)" -ne 0 ]]; then
  fail "the compose test starts its own Docker engine and needs root (or set INNER_TALK_SKIP_COMPOSE=1)"
else
  bash scripts/compose-test.sh || fail "compose test (see the checks above)"
fi
done_step

printf '\nALL CHECKS AND TESTS PASSED\n'
