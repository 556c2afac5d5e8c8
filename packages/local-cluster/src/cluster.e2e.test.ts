import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { MongoClient } from 'mongodb';
import { TEXTS } from '@inner-talk/conversation';
import { isClassifierRequest, startMockGemini, startTelegramEmulator, type MockLlmServer, type TelegramEmulator } from '@inner-talk/mocks';
import { QUEUE_NAMES } from '@inner-talk/queue';
import { postUpdate, serviceUrls, textUpdate, uniquePrefix, waitFor } from '@inner-talk/testkit';
import { grantConsents, startLocalCluster, type IngressMode, type LocalCluster } from './index';

const TOKEN = '123456:e2e-test-token';
const SECRET = 'e2e_webhook_secret_0123456789abcdefghij';

interface Harness {
  cluster: LocalCluster;
  emulator: TelegramEmulator;
  gemini: MockLlmServer;
  prefix: string;
  mongoDb: string;
}

async function startHarness(ingress: IngressMode): Promise<Harness> {
  const { redisUrl, mongoUrl } = serviceUrls();
  const prefix = uniquePrefix('e2e');
  const mongoDb = prefix.replace(/[^A-Za-z0-9_]/g, '_');
  const emulator = await startTelegramEmulator();
  const gemini = await startMockGemini({ config: { latency: { kind: 'fixed', ms: 150 } } });
  const cluster = await startLocalCluster({
    workers: 2,
    redisUrl,
    mongoUrl,
    prefix,
    mongoDb,
    telegram: { token: TOKEN, apiRoot: emulator.apiRoot },
    ingress,
    llm: [{ name: 'gemini', api: 'gemini', keys: ['e2e-gemini-key'], baseUrl: gemini.sdkBaseUrl }],
  });
  return { cluster, emulator, gemini, prefix, mongoDb };
}

async function stopHarness(h: Harness | undefined): Promise<void> {
  if (!h) return;
  await h.cluster.stop();
  await h.emulator.close();
  await h.gemini.close();
  const mongo = new MongoClient(serviceUrls().mongoUrl);
  await mongo.db(h.mongoDb).dropDatabase().catch(() => undefined);
  await mongo.close();
  const redis = new Redis(serviceUrls().redisUrl);
  const keys = await redis.keys(`${h.prefix}:*`);
  if (keys.length) await redis.del(...keys);
  await redis.quit();
}

/** Requests the mock answered as the model (not as the crisis classifier, which runs first on every text). */
const modelCalls = (mock: MockLlmServer) => mock.requests().filter((r) => !isClassifierRequest(r)).length;

async function metricValue(metricsUrl: string, line: string): Promise<number | null> {
  const body = await (await fetch(metricsUrl)).text();
  const found = body.split('\n').find((l) => l.startsWith(`${line} `));
  return found ? Number(found.slice(line.length + 1)) : null;
}

describe('polling mode: /start and a text through ingress, two workers and the metrics app', () => {
  let h: Harness | undefined;
  afterAll(() => stopHarness(h));

  it('greets, answers with the model, stores both messages and counts the replies', async () => {
    h = await startHarness({ mode: 'polling' });
    const user = h.emulator.client(TOKEN, { userId: 501, languageCode: 'ru' });
    await grantConsents(serviceUrls().mongoUrl, h.mongoDb, 'ru', [501]);

    await user.sendCommand('/start');
    const [greeting] = await user.waitForBotMessages(1, 20_000);
    expect(greeting?.text).toBe(TEXTS.ru.welcomeBack);

    await user.sendText('Мне тревожно перед экзаменом');
    const [reply] = await user.waitForBotMessages(1, 20_000);
    expect(reply?.text).toBe('Mock reply to: Мне тревожно перед экзаменом');
    expect((await user.botMessages()).map((m) => m.text)).toEqual([TEXTS.ru.welcomeBack, reply?.text]);
    expect(modelCalls(h.gemini)).toBe(1);

    const mongo = new MongoClient(serviceUrls().mongoUrl);
    try {
      const db = mongo.db(h.mongoDb);
      expect(await db.collection('users').findOne({ _id: 'tg:501' as never })).toMatchObject({ locale: 'ru' });
      const messages = await db.collection('messages').find({ userId: 'tg:501' }).sort({ at: 1 }).toArray();
      // Both messages are stored, sealed (encryption at rest).
      expect(messages.map((m) => m.role)).toEqual(['user', 'assistant']);
      expect(JSON.stringify(messages)).not.toContain('экзаменом');
    } finally {
      await mongo.close();
    }

    const metricsUrl = h.cluster.metricsUrl;
    await waitFor(async () => (await metricValue(metricsUrl, 'innertalk_reply_latency_seconds_count{kind="message"}')) === 2, {
      timeoutMs: 5000,
      message: 'metrics app did not count both replies',
    });
    expect(await metricValue(metricsUrl, 'innertalk_updates_processed_total{outcome="ok"}')).toBe(2);
  });
});

describe('webhook mode', () => {
  let h: Harness | undefined;
  afterAll(() => stopHarness(h));

  beforeAll(async () => {
    h = await startHarness({ mode: 'webhook', secret: SECRET, register: true });
    await grantConsents(serviceUrls().mongoUrl, h.mongoDb, 'en', [601, 603, 604]);
  });

  it('delivers a message Telegram posts with the right secret and replies', async () => {
    const user = h!.emulator.client(TOKEN, { userId: 601, languageCode: 'en' });
    await user.sendText('hello from the webhook');
    const [reply] = await user.waitForBotMessages(1, 20_000);
    expect(reply?.text).toBe('Mock reply to: hello from the webhook');
  });

  it('answers 401 to a wrong or missing secret and queues nothing', async () => {
    const url = h!.cluster.webhookUrl!;
    const wrong = await postUpdate(url, textUpdate(900001, 602, 'intruder'), 'not-the-secret');
    const missing = await postUpdate(url, textUpdate(900002, 602, 'intruder'), null);
    expect([wrong.status, missing.status]).toEqual([401, 401]);
    const queue = new Queue(QUEUE_NAMES.updates, { connection: { url: serviceUrls().redisUrl }, prefix: h!.prefix });
    try {
      expect(await queue.getJob('u900001')).toBeUndefined();
      expect(await queue.getJob('u900002')).toBeUndefined();
    } finally {
      await queue.close();
    }
  });

  it('answers a redelivered update once', async () => {
    const url = h!.cluster.webhookUrl!;
    const user = h!.emulator.client(TOKEN, { userId: 603 });
    const before = modelCalls(h!.gemini);
    const update = textUpdate(900010, 603, 'please answer once');
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await postUpdate(url, update, SECRET)).status);
    expect(statuses).toEqual([200, 200, 200]);
    const [reply] = await user.waitForBotMessages(1, 20_000);
    expect(reply?.text).toBe('Mock reply to: please answer once');
    // Give a wrongly queued second copy time to be answered before checking there is none.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(await user.botMessages()).toHaveLength(1);
    expect(modelCalls(h!.gemini) - before).toBe(1);
  });

  // Last in this block: it stops the workers.
  it('lets a worker finish its in-flight reply on SIGTERM and exit 0', async () => {
    const user = h!.emulator.client(TOKEN, { userId: 604 });
    h!.gemini.configure({ latency: { kind: 'fixed', ms: 2000 } });
    await user.sendText('answer me while you shut down');
    await waitFor(() => h!.gemini.stats().inFlight === 1, { timeoutMs: 10_000, message: 'the model call never started' });
    const codes = await Promise.all(h!.cluster.workers.map((w) => w.stop('SIGTERM', 20_000)));
    expect(codes).toEqual([0, 0]);
    const messages = await user.botMessages();
    expect(messages.map((m) => m.text)).toEqual(['Mock reply to: answer me while you shut down']);
    expect(h!.cluster.workers.some((w) => w.logs().includes('draining'))).toBe(true);
  });
});
