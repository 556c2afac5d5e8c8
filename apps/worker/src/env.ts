import { z } from 'zod';
import { commonEnv, parseAll, parseDataEncryptionEnv, parseEnv, port, positiveInt, telegramEnv, urlWithScheme, type DataEncryptionConfig } from '@inner-talk/config';
import { parseGatewayEnv, type GatewayConfig } from '@inner-talk/gateway';
import type { DrainPolicy } from './drain';

const schema = commonEnv
  .extend(telegramEnv.shape)
  .extend({
    MONGO_URL: urlWithScheme(['mongodb', 'mongodb+srv']),
    MONGO_DB: z.string().regex(/^[A-Za-z0-9_-]{1,38}$/, 'must be 1–38 letters, digits, _ or -').default('inner_talk'),
    /** Jobs handled at once by one process; LLM calls are I/O-bound, so many fit. */
    WORKER_CONCURRENCY: positiveInt(50),
    /** Port of /healthz and /readyz. */
    HEALTH_PORT: port(8081),
    /** How long SIGTERM waits for in-flight jobs; keep below docker compose's stop_grace_period. */
    SHUTDOWN_GRACE_MS: positiveInt(25_000),
    /**
     * Lease of a chat's drain lock, renewed every third of it while a turn runs. After a worker
     * crash its chats are picked up once the lease has run out: by the next arrival, or by the
     * sweeper (SWEEP_IDLE_MS).
     */
    DRAIN_LEASE_MS: positiveInt(10_000),
    /** Failed attempts at one update before it becomes a dead letter and the chat moves on. */
    UPDATE_MAX_ATTEMPTS: positiveInt(4),
    /** Turns one job handles before handing a busy chat to a new job, so one chat cannot hog a slot. */
    DRAIN_MAX_TURNS_PER_JOB: positiveInt(20),
    /** Rapid messages at most this far apart are answered as one turn (0 turns merging off). */
    COALESCE_WINDOW_MS: z.coerce.number().int().min(0).max(60_000).default(3_000),
    /**
     * A chat with waiting updates, no owner and no arrival for this long gets a new drain job (the
     * sweeper looks every quarter of it). With the lease this bounds how long a crashed worker's
     * chats wait: about lease + this + a quarter of this.
     */
    SWEEP_IDLE_MS: positiveInt(15_000),
    /** A turn waits out Telegram's 429 for a chat up to this long; longer cooldowns delay the turn. */
    TELEGRAM_COOLDOWN_MAX_WAIT_MS: positiveInt(10_000),
    /** Total time one person's message may spend in model calls, across fallbacks. */
    LLM_DEADLINE_MS: positiveInt(45_000),
    /** Budget of the crisis classifier's model call; past it the person gets the crisis contacts and the message waits (fail closed). */
    SAFETY_CLASSIFIER_TIMEOUT_MS: positiveInt(5_000),
    /** Silence after which a session ends (with a summary) and the next message starts a new one. */
    SESSION_INACTIVITY_MS: positiveInt(30 * 60_000),
    /** Model tokens one session may spend before it is summarized and continued fresh. */
    SESSION_TOKEN_BUDGET: positiveInt(40_000),
    /** Estimated tokens of earlier turns that go into a prompt; the oldest are dropped first. */
    CONTEXT_HISTORY_TOKENS: positiveInt(3_000),
    /** Lifetime of a person's cached long-term context in Redis (it is also dropped on every change). */
    CONTEXT_CACHE_TTL_S: positiveInt(3_600),
    /** Messages one person may send per minute before getting a "slow down" note instead of a reply. */
    USER_MESSAGES_PER_MINUTE: positiveInt(12),
    /** Model tokens one person may spend per UTC day. */
    USER_DAILY_TOKEN_BUDGET: positiveInt(200_000),
    /** Telegram user ids (comma-separated) allowed to use `/admin`; empty = nobody. */
    ADMIN_TELEGRAM_IDS: z
      .string()
      .default('')
      .transform((s) => s.split(',').map((id) => id.trim()).filter(Boolean))
      .refine((ids) => ids.every((id) => /^\d{1,20}$/.test(id)), 'must be comma-separated numeric Telegram user ids'),
  });

export type WorkerEnv = z.infer<typeof schema> & { gateway: GatewayConfig; encryption: DataEncryptionConfig };

/**
 * Reads and validates the worker's environment once, the LLM gateway's `LLM_*` variables included;
 * throws one ConfigError naming every bad variable.
 */
export function loadWorkerEnv(env: NodeJS.ProcessEnv = process.env): WorkerEnv {
  const { base, gateway, encryption } = parseAll('worker', {
    base: () => parseEnv('worker', schema, env),
    gateway: () => parseGatewayEnv(env, 'worker'),
    encryption: () => parseDataEncryptionEnv(env, 'worker'),
  });
  return { ...base, gateway, encryption };
}

/** The chat drain policy from the environment. */
export function drainPolicy(env: WorkerEnv): DrainPolicy {
  return {
    leaseMs: env.DRAIN_LEASE_MS,
    maxAttempts: env.UPDATE_MAX_ATTEMPTS,
    maxTurnsPerJob: env.DRAIN_MAX_TURNS_PER_JOB,
    retryBaseMs: 1_000,
    retryMaxMs: 30_000,
    coalesce: { windowMs: env.COALESCE_WINDOW_MS, maxMessages: 10, maxChars: 8_000 },
  };
}
