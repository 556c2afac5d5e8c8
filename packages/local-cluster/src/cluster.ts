import { randomBytes } from 'node:crypto';
import { ensureAppsBuilt, freePort, spawnApp, type AppProcess } from '@inner-talk/testkit';

/**
 * How the ingress receives updates. In webhook mode `register: true` makes the ingress call
 * setWebhook with its own URL at start (what production does with WEBHOOK_PUBLIC_URL).
 */
export type IngressMode = { mode: 'polling' } | { mode: 'webhook'; secret: string; path?: string; register?: boolean };

/** One provider of the gateway's chain, in the gateway's own terms (see parseGatewayEnv). */
export interface LlmTarget {
  name: string;
  api: 'gemini' | 'openai';
  /** `scope:key` or `key` entries. */
  keys: string[];
  model?: string;
  baseUrl?: string;
}

export interface LocalClusterOptions {
  workers: number;
  redisUrl: string;
  mongoUrl: string;
  /** Redis key prefix and MongoDB database of this cluster (tests use a unique one each). */
  prefix: string;
  mongoDb: string;
  telegram: { token: string; apiRoot: string };
  ingress: IngressMode;
  /** The fallback chain, primary first; empty to leave it to LLM_* variables in `extraEnv`. */
  llm: LlmTarget[];
  workerConcurrency?: number;
  /** Fixed ingress port (e.g. behind a reverse proxy); a free port otherwise. */
  ingressPort?: number;
  logLevel?: string;
  /** Variables added to every app's environment (after ours, so they win). */
  extraEnv?: Record<string, string>;
  /** Variables added to the workers' environment only, after `extraEnv` (e.g. NODE_OPTIONS for a CPU profile). */
  workerEnv?: Record<string, string>;
}

export interface LocalCluster {
  ingressUrl: string;
  /** Full webhook URL when the ingress runs in webhook mode. */
  webhookUrl: string | null;
  metricsUrl: string;
  ingress: AppProcess;
  workers: AppProcess[];
  metrics: AppProcess;
  /** The data encryption keyring the apps seal with (`DATA_ENCRYPTION_KEYS`), for tests that read what they stored. */
  keyring: string;
  /**
   * Starts one more worker with the same settings (e.g. to replace a killed one, as a container
   * restart policy would), appends it to `workers` and resolves once it answers /healthz.
   */
  addWorker(): Promise<AppProcess>;
  /** Stops every process with SIGTERM (workers drain first) and waits for them. */
  stop(): Promise<void>;
}

// The compiled apps, run by node as one process each, exactly as the image runs them (what is tested
// is what ships); built by ensureAppsBuilt when a cluster starts.
const RUNNER = 'node';

const ENTRIES = {
  ingress: 'dist/ingress.js',
  worker: 'dist/worker.js',
  metrics: 'dist/metrics.js',
} as const;

/**
 * Starts ingress, `workers` worker processes and the metrics app as separate OS processes — the
 * same entry points docker compose runs — and resolves once each answers /healthz.
 * Used by the local run command, the end-to-end tests and the benchmarks.
 */
export async function startLocalCluster(options: LocalClusterOptions): Promise<LocalCluster> {
  ensureAppsBuilt();
  const shared: Record<string, string> = {
    NODE_ENV: 'development',
    LOG_LEVEL: options.logLevel ?? 'info',
    REDIS_URL: options.redisUrl,
    REDIS_PREFIX: options.prefix,
    TELEGRAM_BOT_TOKEN: options.telegram.token,
    TELEGRAM_API_ROOT: options.telegram.apiRoot,
  };
  const llmEnv: Record<string, string> = options.llm.length ? { LLM_CHAIN: options.llm.map((t) => t.name).join(',') } : {};
  for (const t of options.llm) {
    const p = `LLM_${t.name.toUpperCase()}_`;
    Object.assign(llmEnv, { [`${p}API`]: t.api, [`${p}KEYS`]: t.keys.join(',') }, t.model && { [`${p}MODEL`]: t.model }, t.baseUrl && { [`${p}BASE_URL`]: t.baseUrl });
  }

  const started: AppProcess[] = [];
  const stopAll = async () => {
    // Ingress first (no new work), then workers (drain), then metrics.
    for (const proc of [...started].reverse()) await proc.stop('SIGTERM', 30_000).catch(() => undefined);
  };
  try {
    const metricsPort = await freePort();
    const metrics = await spawnApp({
      name: 'metrics',
      runner: RUNNER,
      entry: ENTRIES.metrics,
      env: { ...shared, METRICS_PORT: String(metricsPort), HTTP_HOST: '127.0.0.1', ...options.extraEnv },
      healthUrl: `http://127.0.0.1:${metricsPort}/healthz`,
    });
    started.push(metrics);

    const workers: AppProcess[] = [];
    // Numbered when started, not by the list's length: replacements may start concurrently (a
    // restart policy restarts each dead worker on its own) and every one needs its own name and log.
    let workerNumber = 0;
    // The ingress and workers seal personal data at rest: one throwaway key shared by this cluster's
    // apps (a caller's DATA_ENCRYPTION_KEYS in extraEnv wins).
    const keyring = `local:${randomBytes(32).toString('base64')}`;
    const addWorker = async (): Promise<AppProcess> => {
      const healthPort = await freePort();
      const worker = await spawnApp({
        name: `worker-${++workerNumber}`,
        runner: RUNNER,
        entry: ENTRIES.worker,
        env: {
          ...shared,
          ...llmEnv,
          MONGO_URL: options.mongoUrl,
          MONGO_DB: options.mongoDb,
          HEALTH_PORT: String(healthPort),
          WORKER_CONCURRENCY: String(options.workerConcurrency ?? 50),
          DATA_ENCRYPTION_KEYS: keyring,
          ...options.extraEnv,
          ...options.workerEnv,
        },
        healthUrl: `http://127.0.0.1:${healthPort}/healthz`,
      });
      started.push(worker);
      workers.push(worker);
      return worker;
    };
    for (let i = 0; i < options.workers; i++) await addWorker();

    const ingressPort = options.ingressPort ?? (await freePort());
    const webhookPath = options.ingress.mode === 'webhook' ? (options.ingress.path ?? '/telegram/webhook') : null;
    const ingress = await spawnApp({
      name: 'ingress',
      runner: RUNNER,
      entry: ENTRIES.ingress,
      env: {
        ...shared,
        INGRESS_MODE: options.ingress.mode,
        DATA_ENCRYPTION_KEYS: keyring,
        HTTP_HOST: '127.0.0.1',
        HTTP_PORT: String(ingressPort),
        ...(options.ingress.mode === 'webhook' && { WEBHOOK_SECRET: options.ingress.secret, WEBHOOK_PATH: webhookPath ?? '' }),
        ...(options.ingress.mode === 'webhook' && options.ingress.register && { WEBHOOK_PUBLIC_URL: `http://127.0.0.1:${ingressPort}${webhookPath}` }),
        ...options.extraEnv,
      },
      healthUrl: `http://127.0.0.1:${ingressPort}/healthz`,
    });
    started.push(ingress);

    const ingressUrl = `http://127.0.0.1:${ingressPort}`;
    return {
      ingressUrl,
      webhookUrl: webhookPath ? `${ingressUrl}${webhookPath}` : null,
      metricsUrl: `http://127.0.0.1:${metricsPort}/metrics`,
      ingress,
      workers,
      metrics,
      keyring: options.extraEnv?.DATA_ENCRYPTION_KEYS ?? keyring,
      addWorker,
      stop: stopAll,
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}
