import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import { Api } from 'grammy';
import { createRedis, redisReady, UpdateQueue, type TelegramUpdatePayload } from '@inner-talk/queue';
import { ALLOWED_UPDATES, sharedBotInfo } from '@inner-talk/telegram';
import { Vault } from '@inner-talk/vault';
import { createLogger, handleProbe, runApp, type StopApp } from '@inner-talk/telemetry';
import { loadIngressEnv } from './env';
import { createPollingBot } from './polling';
import { inboxFormOf } from './private-only';
import { createWebhookHandler } from './webhook';

async function main(): Promise<StopApp> {
  const env = loadIngressEnv();
  const logger = createLogger({
    app: 'ingress',
    level: env.LOG_LEVEL,
    pretty: env.LOG_PRETTY,
    secrets: [env.TELEGRAM_BOT_TOKEN, env.WEBHOOK_SECRET ?? ''],
  });
  const redis = createRedis(env.REDIS_URL, 'producer');
  redis.on('error', () => undefined); // reported through failed enqueues and /readyz
  await redisReady(redis, 30_000);
  const vault = new Vault({ keys: env.encryption.keys, currentKeyId: env.encryption.currentKeyId });
  const queue = new UpdateQueue({ connection: redis, prefix: env.REDIS_PREFIX, vault, dedupeTtlMs: env.DEDUPE_TTL_SECONDS * 1000 });

  const accept = async (update: TelegramUpdatePayload) => {
    const traceId = randomUUID();
    // Only private chats are ours: anything else is cut down before it is stored (see inboxFormOf).
    const { appended } = await queue.enqueue(inboxFormOf(update), Date.now(), traceId);
    // The correlation id starts here; the worker logs it with every line about this update.
    logger.info({ updateId: update.update_id, traceId, redelivery: !appended }, 'update queued');
  };

  let stopping = false;
  const api = new Api(env.TELEGRAM_BOT_TOKEN, { apiRoot: env.TELEGRAM_API_ROOT });
  const webhook =
    env.INGRESS_MODE === 'webhook'
      ? createWebhookHandler({ path: env.WEBHOOK_PATH, secret: env.WEBHOOK_SECRET ?? '', maxBodyBytes: env.MAX_BODY_BYTES, accept, logger })
      : null;
  const server = createServer((req, res) => {
    if (handleProbe(req, res, { redis: () => redis.ping() }, () => stopping)) return;
    if (webhook?.(req, res)) return;
    res.writeHead(404, { 'content-type': 'application/json' }).end('{"ok":false,"error":"not found"}');
  });
  server.requestTimeout = 15_000;
  await new Promise<void>((resolve) => server.listen(env.HTTP_PORT, env.HTTP_HOST, resolve));

  let polling: ReturnType<typeof createPollingBot> | null = null;
  if (env.INGRESS_MODE === 'polling') {
    const botInfo = await sharedBotInfo(redis, env.REDIS_PREFIX, api);
    polling = createPollingBot({ token: env.TELEGRAM_BOT_TOKEN, apiRoot: env.TELEGRAM_API_ROOT, botInfo, accept, logger, isStopping: () => stopping });
    void polling.start({ drop_pending_updates: false, allowed_updates: ALLOWED_UPDATES }).catch((err: unknown) => {
      logger.fatal({ err: { name: err instanceof Error ? err.name : typeof err } }, 'polling stopped');
      process.exit(1);
    });
  } else if (env.WEBHOOK_PUBLIC_URL) {
    await api.setWebhook(env.WEBHOOK_PUBLIC_URL, { secret_token: env.WEBHOOK_SECRET, drop_pending_updates: false, allowed_updates: ALLOWED_UPDATES });
    logger.info('webhook registered with Telegram');
  }
  logger.info({ mode: env.INGRESS_MODE, port: env.HTTP_PORT }, 'ingress started');

  return async (signal) => {
    stopping = true;
    logger.info({ signal }, 'ingress stopping');
    if (polling) await polling.stop().catch(() => undefined);
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await queue.close().catch(() => undefined);
    redis.disconnect();
    logger.info('ingress stopped');
    logger.flush();
  };
}

runApp('ingress', main);
