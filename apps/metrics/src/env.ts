import { z } from 'zod';
import { commonEnv, parseEnv, port } from '@inner-talk/config';

const schema = commonEnv.extend({
  HTTP_HOST: z.string().default('0.0.0.0'),
  /** Port of /metrics, /healthz and /readyz. */
  METRICS_PORT: port(9464),
});

export type MetricsEnv = z.infer<typeof schema>;

/** Reads and validates the metrics app's environment once; throws ConfigError naming each bad variable. */
export function loadMetricsEnv(env: NodeJS.ProcessEnv = process.env): MetricsEnv {
  return parseEnv('metrics', schema, env);
}
