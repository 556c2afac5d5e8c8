import { z } from 'zod';
import { commonEnv, ConfigError, parseEnv, port, positiveInt, telegramEnv, urlWithScheme } from '@inner-talk/config';
import { parseGatewayEnv, type GatewayConfig } from '@inner-talk/gateway';

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
    /** Total time one person's message may spend in model calls, across fallbacks. */
    LLM_DEADLINE_MS: positiveInt(45_000),
  });

export type WorkerEnv = z.infer<typeof schema> & { gateway: GatewayConfig };

/**
 * Reads and validates the worker's environment once, the LLM gateway's `LLM_*` variables included;
 * throws one ConfigError naming every bad variable.
 */
export function loadWorkerEnv(env: NodeJS.ProcessEnv = process.env): WorkerEnv {
  const problems: string[] = [];
  const attempt = <T>(read: () => T): T | undefined => {
    try {
      return read();
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      problems.push(...error.problems);
      return undefined;
    }
  };
  const base = attempt(() => parseEnv('worker', schema, env));
  const gateway = attempt(() => parseGatewayEnv(env, 'worker'));
  if (!base || !gateway) throw new ConfigError('worker', problems);
  return { ...base, gateway };
}
