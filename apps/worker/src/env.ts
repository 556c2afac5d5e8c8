import { z } from 'zod';
import { commonEnv, parseEnv, port, positiveInt, telegramEnv, urlWithScheme } from '@inner-talk/config';

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
    LLM_PROVIDER: z.enum(['gemini', 'openai']).default('gemini'),
    LLM_TIMEOUT_MS: positiveInt(20_000),
    GEMINI_API_KEY: z.string().optional(),
    GEMINI_MODEL: z.string().default('gemini-2.5-flash'),
    GEMINI_BASE_URL: urlWithScheme(['http', 'https']).optional(),
    OPENAI_API_KEY: z.string().optional(),
    OPENAI_MODEL: z.string().default('gpt-4.1-mini'),
    OPENAI_BASE_URL: urlWithScheme(['http', 'https']).optional(),
  })
  .superRefine((env, ctx) => {
    const key = env.LLM_PROVIDER === 'gemini' ? 'GEMINI_API_KEY' : 'OPENAI_API_KEY';
    if (!env[key]) ctx.addIssue({ code: 'custom', path: [key], message: `is required when LLM_PROVIDER=${env.LLM_PROVIDER}` });
  });

export type WorkerEnv = z.infer<typeof schema>;

/** Reads and validates the worker's environment once; throws ConfigError naming each bad variable. */
export function loadWorkerEnv(env: NodeJS.ProcessEnv = process.env): WorkerEnv {
  return parseEnv('worker', schema, env);
}
