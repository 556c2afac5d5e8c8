import { createServer } from 'node:http';
import { Worker } from 'bullmq';
import { Api } from 'grammy';
import { Conversation, crisisCheck, TurnDeferredError } from '@inner-talk/conversation';
import { AllProvidersUnavailableError, dataProcessorNames } from '@inner-talk/gateway';
import { ChatInbox, chatKeyOf, createRedis, createUpdatesQueue, QUEUE_NAMES, queueDrain, removeFailedJobsOf } from '@inner-talk/queue';
import { AssessmentStore, ConsentStore, ConversationStore, SessionStore, connectMongo } from '@inner-talk/storage';
import { Vault } from '@inner-talk/vault';
import { sharedBotInfo } from '@inner-talk/telegram';
import { ActivePeople, BufferedMetrics, ClusterMetricsWriter, createLogger, handleProbe, runApp, type RunningApp, type StopApp } from '@inner-talk/telemetry';
import { createWorkerBot } from './bot';
import { drainPolicy, loadWorkerEnv } from './env';
import { createUpdateProcessor } from './processor';
import { ChatDrainer, describe, unwrap } from './drain';
import { DeliveryLedger, plainTextFallback, sharedFloodControl } from './outbound';
import { deadLetterNotice, noticeClaims } from './notices';
import { prepareStorage } from './storage-setup';
import { buildGateway } from './llm';
import { RedisContextCache } from './context-cache';
import { RedisUsageLimits } from './usage-limits';
import { WorkerDataRights } from './data-rights';
import { WorkerAdmin } from './admin';
import { RedisButtonNonces } from './button-nonces';

async function main(): Promise<RunningApp> {
  const env = loadWorkerEnv();
  const logger = createLogger({
    app: 'worker',
    level: env.LOG_LEVEL,
    pretty: env.LOG_PRETTY,
    secrets: [env.TELEGRAM_BOT_TOKEN, ...env.gateway.chain.flatMap((route) => route.keys.map((k) => k.apiKey))],
  });

  const redis = createRedis(env.REDIS_URL, 'worker');
  // Lazy: a worker starts, and answers /sos and crisis texts, while MongoDB cannot be reached.
  const mongo = await connectMongo(env.MONGO_URL, env.MONGO_DB, { lazy: true });
  const vault = new Vault({ keys: env.encryption.keys, currentKeyId: env.encryption.currentKeyId });
  const store = new ConversationStore(mongo.db, { vault });
  const consents = new ConsentStore(mongo.db);
  const selfChecks = new AssessmentStore(mongo.db, { vault });
  const sessions = new SessionStore(mongo.db, { vault });
  let shuttingDown = false;
  const storageReady = prepareStorage([() => store.ensureIndexes(), () => selfChecks.ensureIndexes(), () => sessions.ensureIndexes()], {
    logger,
    isClosing: () => shuttingDown,
  });

  const botInfo = await sharedBotInfo(redis, env.REDIS_PREFIX, new Api(env.TELEGRAM_BOT_TOKEN, { apiRoot: env.TELEGRAM_API_ROOT }));
  // Samples of all turns go to Redis together, one MULTI per 200 ms (see BufferedMetrics).
  const metrics = new BufferedMetrics(new ClusterMetricsWriter(redis, env.REDIS_PREFIX), {
    onError: (err, dropped) => logger.warn({ err: describe(err), dropped }, 'metrics write failed; samples dropped'),
  });
  const llm = await buildGateway(env, logger, metrics);
  const inbox = new ChatInbox(redis, env.REDIS_PREFIX, vault);
  const contextCache = new RedisContextCache(redis, env.REDIS_PREFIX, { vault, ttlSeconds: env.CONTEXT_CACHE_TTL_S, metrics });
  const limits = new RedisUsageLimits(redis, env.REDIS_PREFIX, { vault, messagesPerMinute: env.USER_MESSAGES_PER_MINUTE, dailyTokenBudget: env.USER_DAILY_TOKEN_BUDGET, metrics });
  const activePeople = new ActivePeople(redis, env.REDIS_PREFIX);
  const updatesQueue = createUpdatesQueue(redis, env.REDIS_PREFIX);
  const admin = new WorkerAdmin({
    adminIds: new Set(env.ADMIN_TELEGRAM_IDS),
    db: mongo.db,
    redis,
    prefix: env.REDIS_PREFIX,
    queue: updatesQueue,
    riskEventCounts: (since) => store.riskEventCounts(since),
  });
  const buttonNonces = new RedisButtonNonces(redis, env.REDIS_PREFIX, vault);
  const dataRights = new WorkerDataRights({
    db: mongo.db,
    vault,
    redis,
    inbox,
    redisKeysOf: (userId) => [...contextCache.keysOf(userId), ...limits.keyPatterns(userId)],
    lastRedisKeysOf: (userId) => buttonNonces.keysOf(userId),
    forgetChat: async (chat) => {
      const pseudonyms = inbox.pseudonymsOf(chat);
      for (const pseudonym of pseudonyms) await activePeople.forget(pseudonym);
      await removeFailedJobsOf(updatesQueue, pseudonyms);
    },
  });
  const conversation = new Conversation({
    model: llm.gateway,
    ...(llm.light && { lightModel: llm.light }),
    memory: store,
    consents,
    selfChecks,
    sessions,
    contextCache,
    limits,
    dataRights,
    buttonNonces,
    admin,
    sessionInactivityMs: env.SESSION_INACTIVITY_MS,
    sessionTokenBudget: env.SESSION_TOKEN_BUDGET,
    historyTokenBudget: env.CONTEXT_HISTORY_TOKENS,
    // Both layers on every text. When the classifier cannot answer, the person gets the contacts and
    // the message waits until a model can classify it (at the earliest when a provider is back).
    safety: crisisCheck({
      model: llm.gateway,
      timeoutMs: env.SAFETY_CLASSIFIER_TIMEOUT_MS,
      retryAtOf: (error) => (error instanceof AllProvidersUnavailableError ? error.retryAt : null),
    }),
    llmTimeoutMs: env.LLM_DEADLINE_MS,
    dataProcessors: dataProcessorNames(env.gateway),
  });
  const { bot, reports } = createWorkerBot({
    token: env.TELEGRAM_BOT_TOKEN,
    apiRoot: env.TELEGRAM_API_ROOT,
    botInfo,
    conversation,
    logger,
    metrics,
    attemptTransformers: [sharedFloodControl(redis, env.REDIS_PREFIX, { maxWaitMs: env.TELEGRAM_COOLDOWN_MAX_WAIT_MS, chatKeyOf: (chatId) => inbox.pseudonymOf(chatId), metrics })],
    // One "I need a moment" (or contacts note) per update, however often its job is delayed and retried.
    claimNotice: noticeClaims(redis, env.REDIS_PREFIX),
  });

  // Notices are not replies: the re-run of the turn sends its replies in full.
  const sentOnlyNotices = (error: unknown) => {
    const cause = unwrap(error);
    return cause instanceof AllProvidersUnavailableError || (cause instanceof TurnDeferredError && cause.reason === 'safety_unchecked');
  };
  const ledger = new DeliveryLedger(redis, env.REDIS_PREFIX, { metrics, sentOnlyNotices });
  bot.api.config.use(plainTextFallback(), ledger.transformer());

  const drainer = new ChatDrainer({
    bot,
    inbox,
    reports,
    metrics,
    logger,
    policy: drainPolicy(env),
    runTurn: (chat, turnKey, handle) => ledger.run(chat, turnKey, handle),
    turnKeys: (chat, turnKey) => [ledger.keyOf(chat, turnKey)],
    activePeople,
    notifyDeadLetter: async (entry) => {
      // The opened update names the chat; the job and the inbox know only its pseudonym.
      const chatId = Number(chatKeyOf(entry.update));
      if (!Number.isSafeInteger(chatId)) return;
      await bot.api.sendMessage(chatId, deadLetterNotice(entry.update));
    },
    isClosing: () => shuttingDown,
  });

  const worker = new Worker(QUEUE_NAMES.updates, createUpdateProcessor({ drainer, queue: updatesQueue, logger }), {
    connection: redis,
    prefix: env.REDIS_PREFIX,
    concurrency: env.WORKER_CONCURRENCY,
  });
  // Safety net for chats whose trigger job was lost (e.g. failed for good after repeated crashes).
  const sweeper = setInterval(() => {
    void (async () => {
      for (const chat of await inbox.strandedChats(env.SWEEP_IDLE_MS, 200)) {
        await queueDrain(updatesQueue, chat, `s${Math.floor(Date.now() / env.SWEEP_IDLE_MS)}`);
        logger.warn({ chat: 'redacted' }, 'stranded chat inbox found; drain queued');
      }
    })().catch((err: unknown) => logger.warn({ err: describe(err) }, 'inbox sweep failed'));
  }, Math.max(1000, env.SWEEP_IDLE_MS / 4));
  sweeper.unref();
  worker.on('error', (err) => logger.error({ err: { name: err.name } }, 'worker error'));

  const health = createServer((req, res) => {
    // Not ready while MongoDB is down or its indexes are not in place yet; jobs are consumed meanwhile.
    const checks = { redis: () => redis.ping(), mongo: async () => (await storageReady.check(), await mongo.db.command({ ping: 1 })) };
    if (!handleProbe(req, res, checks, () => shuttingDown)) res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => health.listen(env.HEALTH_PORT, resolve));
  logger.info({ concurrency: env.WORKER_CONCURRENCY, chain: env.gateway.chain.map((r) => r.name), healthPort: env.HEALTH_PORT }, 'worker started');

  const stop: StopApp = async (signal) => {
    shuttingDown = true;
    clearInterval(sweeper);
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
    storageReady.stop();
    await metrics.close();
    await updatesQueue.close().catch(() => undefined);
    await llm.state.close().catch(() => undefined);
    await mongo.close().catch(() => undefined);
    redis.disconnect();
    logger.info({ drained }, 'worker stopped');
    logger.flush();
  };
  // runApp exits 1 if the stop outlasts this drain time plus its close allowance.
  return { stop, shutdownGraceMs: env.SHUTDOWN_GRACE_MS };
}

runApp('worker', main);
