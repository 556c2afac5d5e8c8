#!/usr/bin/env bash
# THE run command (README): bash scripts/start.sh [--once] [--workers N]
#
# Starts Inner Talk on this machine: ingress, N workers (default 2) and the metrics app as separate
# processes. Without TELEGRAM_BOT_TOKEN it runs a clearly labelled demo against a local Telegram
# emulator and a mock Gemini API; with a token (and an LLM key) it is the real bot.
#   1. pnpm 12.4.2 (installed if missing)   2. pnpm install --frozen-lockfile (brings Node 24)
#   3. settings from .env, if present        4. Redis and FerretDB unless REDIS_URL / MONGO_URL are set
#   5. scripts/cluster.ts
set -euo pipefail

# shellcheck source=lib/bootstrap.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/bootstrap.sh"

ensure_pnpm
install_packages

section "settings"
if [[ -f .env ]]; then
  echo "reading .env"
  set -a
  # shellcheck disable=SC1091
  source .env
  set +a
else
  echo "no .env (copy .env.example to configure the real bot)"
fi
# The real bot seals personal data at rest and needs a key that outlives this run: make one once and
# keep it in .env (losing it makes the stored conversations unreadable). The demo uses a throwaway key.
if [[ -n "${TELEGRAM_BOT_TOKEN:-}" && -z "${DATA_ENCRYPTION_KEYS:-}" ]]; then
  DATA_ENCRYPTION_KEYS="k1:$(node -e 'process.stdout.write(require("crypto").randomBytes(32).toString("base64"))')"
  export DATA_ENCRYPTION_KEYS
  printf '\n# Written by scripts/start.sh: the key that seals stored personal data. Keep it, back it up.\nDATA_ENCRYPTION_KEYS=%s\n' "$DATA_ENCRYPTION_KEYS" >>.env
  chmod 600 .env
  echo "no DATA_ENCRYPTION_KEYS: generated one and saved it in .env (keep it; back it up)"
fi
# A webhook needs a secret only Telegram knows (32+ characters); make one once, like the key above.
if [[ -n "${TELEGRAM_BOT_TOKEN:-}" && "${INGRESS_MODE:-}" == webhook && -z "${WEBHOOK_SECRET:-}" ]]; then
  WEBHOOK_SECRET="$(node -e 'process.stdout.write(require("crypto").randomBytes(32).toString("hex"))')"
  export WEBHOOK_SECRET
  printf '\n# Written by scripts/start.sh: the webhook secret token Telegram sends with every update.\nWEBHOOK_SECRET=%s\n' "$WEBHOOK_SECRET" >>.env
  chmod 600 .env
  echo "no WEBHOOK_SECRET: generated one and saved it in .env"
fi
done_step

section "services (scripts/services.sh up)"
bash scripts/services.sh up >/dev/null || fail "scripts/services.sh up (see the messages above)"
# shellcheck disable=SC1091
source "$RUN_DIR/services.env"
done_step

section "cluster"
exec pnpm exec tsx scripts/cluster.ts "$@"
