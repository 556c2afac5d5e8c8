import { z } from 'zod';
import { urlWithScheme } from './env';

/**
 * Variables every app reads. Each app extends this with its own and parses once at start-up.
 */
export const commonEnv = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('production'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** Pretty, human-readable logs instead of JSON (development only). */
  LOG_PRETTY: z.enum(['true', 'false']).default('false').transform((v) => v === 'true'),
  REDIS_URL: urlWithScheme(['redis', 'rediss']),
  /** Prefix of every Redis key (queues included); lets several deployments or tests share one Redis. */
  REDIS_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,32}$/, 'must be 1–32 letters, digits, _ or -')
    .default('it'),
});

export type CommonEnv = z.infer<typeof commonEnv>;

/** Telegram Bot API access shared by the ingress and the workers. */
export const telegramEnv = z.object({
  TELEGRAM_BOT_TOKEN: z.string().regex(/^\d+:[A-Za-z0-9_-]+$/, 'must look like 123456:ABC-def (the token BotFather gave you)'),
  /** Base URL of the Bot API; change only for a local Bot API server or an emulator. */
  TELEGRAM_API_ROOT: urlWithScheme(['http', 'https']).default('https://api.telegram.org'),
});
