import { createServer } from 'node:http';
import { Worker } from 'bullmq';
import { Api } from 'grammy';
import { Conversation } from '@inner-talk/conversation';
import { createRedis, QUEUE_NAMES } from '@inner-talk/queue';
import { ConversationStore, connectMongo } from '@inner-talk/storage';
import { sharedBotInfo } from '@inner-talk/telegram';
import { ClusterMetricsWriter, createLogger, handleProbe, runApp, type StopApp } from '@inner-talk/telemetry';
import { createWorkerBot } from './bot';
import { loadWorkerEnv } from './env';
import { createUpdateProcessor } from './processor';
import { buildGateway } from './llm';

async function main(): Promise<StopApp> {
  const env = loadWorkerEnv();
  const logger = createLogger({
    app: 'worker',
    level: env.LOG_LEVEL,
    pretty: env.LOG_PRETTY,
    secrets: [env.TELEGRAM_BOT_TOKEN, ...env.gateway.chain.flatMap((route) => route.keys.map((k) => k.apiKey))],
  });

  const redis = createRedis(env.REDIS_URL, 'worker');
  const mongo = await connectMongo(env.MONGO_URL, env.MONGO_DB);
  const store = new ConversationStore(mongo.db);
  await store.ensureIndexes();

  const botInfo = await sharedBotInfo(redis, env.REDIS_PREFIX, new Api(env.TELEGRAM_BOT_TOKEN, { apiRoot: env.TELEGRAM_API_ROOT }));
  const metrics = new ClusterMetricsWriter(redis, env.REDIS_PREFIX);
  const llm = await buildGateway(env, logger, metrics);
  const conversation = new Conversation({ model: llm.gateway, memory: store, llmTimeoutMs: env.LLM_DEADLINE_MS });
  const { bot, reports } = createWorkerBot({
    token: env.TELEGRAM_BOT_TOKEN,
    apiRoot: env.TELEGRAM_API_ROOT,
    botInfo,
    conversation,
    logger,
    metrics,
    // One "I need a moment" per update, however often its job is delayed and retried.
    claimWaitNotice: async (updateId) => (await redis.set(`${env.REDIS_PREFIX}:wait-notice:${updateId}`, '1', 'EX', 86_400, 'NX')) === 'OK',
  });

  const worker = new Worker(QUEUE_NAMES.updates, createUpdateProcessor({ bot, reports, metrics, logger }), {
    connection: redis,
    prefix: env.REDIS_PREFIX,
    concurrency: env.WORKER_CONCURRENCY,
  });
  worker.on('error', (err) => logger.error({ err: { name: err.name } }, 'worker error'));

  let shuttingDown = false;
  const health = createServer((req, res) => {
    const checks = { redis: () => redis.ping(), mongo: () => mongo.db.command({ ping: 1 }) };
    if (!handleProbe(req, res, checks, () => shuttingDown)) res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => health.listen(env.HEALTH_PORT, resolve));
  logger.info({ concurrency: env.WORKER_CONCURRENCY, chain: env.gateway.chain.map((r) => r.name), healthPort: env.HEALTH_PORT }, 'worker started');

  return async (signal) => {
    shuttingDown = true;
    logger.info({ signal }, 'draining: finishing in-flight jobs');
    // worker.close() waits for active jobs but has no timeout of its own.
    const drained = await Promise.race([
      worker.close().then(() => true),
      new Promise<boolean>((resolve) => setTimeout(() => resolve(false), env.SHUTDOWN_GRACE_MS).unref()),
    ]);
    if (!drained) {
      logger.warn({ graceMs: env.SHUTDOWN_GRACE_MS }, 'grace period over: unfinished jobs return to the queue as stalled');
      await worker.close(true).catch(() => undefined);
    }
    health.close();
    await llm.state.close().catch(() => undefined);
    await mongo.close().catch(() => undefined);
    redis.disconnect();
    logger.info({ drained }, 'worker stopped');
    logger.flush();
  };
}

runApp('worker', main);
