/**
 * Evidence that the LLM gateway's breaker is one breaker for the whole cluster: three worker
 * processes share it through Redis. Drives it deterministically (sequential messages while nothing
 * else runs) and checks the mocks' request counts, Redis state and the workers' own log lines
 * (incident lines, "provider call failed", "answered by fallback", "update handled").
 */
import { Redis } from 'ioredis';
import { MongoClient } from 'mongodb';
import { TEXTS } from '@inner-talk/conversation';
import { startMockGemini, startMockOpenAI, startTelegramEmulator, type MockLlmServer, type TelegramEmulator, type TelegramUserClient } from '@inner-talk/mocks';
import { logRecords, serviceUrls, uniquePrefix, waitFor } from '@inner-talk/testkit';
import { grantConsents, startLocalCluster, type LocalCluster } from './index';

const TOKEN = '314159:failover-e2e-token';
const FAILURES = 3;
const LATENCY_MS = 100;
/** The claim under test: every process stops calling an opened provider within this. */
const PROPAGATION_MS = 100;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const reply = (text: string) => `Mock reply to: ${text}`;

interface Harness {
  emulator: TelegramEmulator;
  gemini: MockLlmServer;
  openai: MockLlmServer;
  cluster?: LocalCluster;
  prefix: string;
  redis: Redis;
}

async function startHarness(openMs: number): Promise<Harness> {
  const { redisUrl, mongoUrl } = serviceUrls();
  const prefix = uniquePrefix('failover');
  const latency = { kind: 'fixed', ms: LATENCY_MS } as const;
  const h: Harness = {
    emulator: await startTelegramEmulator(),
    gemini: await startMockGemini({ config: { latency }, requestLogSize: 1000 }),
    openai: await startMockOpenAI({ config: { latency }, requestLogSize: 1000 }),
    prefix,
    redis: new Redis(redisUrl),
  };
  try {
    h.cluster = await startLocalCluster({
      workers: 3,
      redisUrl,
      mongoUrl,
      prefix,
      mongoDb: prefix,
      telegram: { token: TOKEN, apiRoot: h.emulator.apiRoot },
      ingress: { mode: 'polling' },
      llm: [
        { name: 'gemini', api: 'gemini', keys: ['e2e-project:e2e-gemini-key'], baseUrl: h.gemini.sdkBaseUrl },
        { name: 'openai', api: 'openai', keys: ['e2e-openai-key'], baseUrl: h.openai.sdkBaseUrl },
      ],
      // Two jobs per process: a burst of more than six messages has to be spread over all three.
      workerConcurrency: 2,
      extraEnv: {
        LLM_BREAKER_FAILURES: String(FAILURES),
        LLM_BREAKER_OPEN_MS: String(openMs),
        // Only the consecutive-failure rule, so the count is exact.
        LLM_BREAKER_ERROR_RATE: '0',
      },
    });
  } catch (error) {
    await stopHarness(h);
    throw error;
  }
  return h;
}

async function stopHarness(h: Harness | undefined): Promise<void> {
  if (!h) return;
  await h.cluster?.stop();
  await h.emulator.close();
  await h.gemini.close();
  await h.openai.close();
  let cursor = '0';
  do {
    const [next, keys] = await h.redis.scan(cursor, 'MATCH', `${h.prefix}:*`, 'COUNT', 1000);
    if (keys.length) await h.redis.del(...keys);
    cursor = next;
  } while (cursor !== '0');
  await h.redis.quit();
  const mongo = new MongoClient(serviceUrls().mongoUrl);
  await mongo.db(h.prefix).dropDatabase().catch(() => undefined);
  await mongo.close();
}

// ---- what the workers logged ----

interface Incident {
  worker: string;
  from: string;
  to: string;
  reason: string;
  at: number;
  openUntil?: number;
}

const incidents = (h: Harness, provider: string): Incident[] =>
  logRecords(h.cluster!.workers)
    .filter((l) => l.incident === 'breaker' && l.breaker === `provider:${provider}`)
    .map((l) => ({ worker: l.app, from: String(l.from), to: String(l.to), reason: String(l.reason), at: Number(l.at), ...(l.openUntil !== undefined && { openUntil: Number(l.openUntil) }) }))
    .sort((a, b) => a.at - b.at);

const failedCalls = (h: Harness, provider: string) =>
  logRecords(h.cluster!.workers)
    .filter((l) => l.msg === 'provider call failed' && l.provider === provider)
    .map((l) => ({ worker: l.app, startedAt: Number(l.startedAt) }));

const fallbackAnswers = (h: Harness) =>
  logRecords(h.cluster!.workers)
    .filter((l) => l.msg === 'answered by fallback')
    .map((l) => ({ worker: l.app, provider: String(l.provider), startedAt: Number(l.startedAt), failoverMs: Number(l.failoverMs) }));

/** Which worker handled each of these updates (the attempt that ended with outcome ok). */
const handledBy = (h: Harness, updateIds: readonly number[]): Map<number, string> =>
  new Map(
    logRecords(h.cluster!.workers)
      .filter((l) => l.msg === 'update handled' && l.outcome === 'ok' && updateIds.includes(Number(l.updateId)))
      .map((l) => [Number(l.updateId), l.app]),
  );

/** The last user text of each request a mock received (the messages it answered or failed). */
const askedTexts = (mock: MockLlmServer): string[] => mock.requests().map((r) => [...r.messages].reverse().find((m) => m.role === 'user')?.text ?? '');

async function breakerHash(h: Harness, provider: string): Promise<Record<string, string>> {
  return h.redis.hgetall(`${h.prefix}:br:{provider:${provider}}`);
}

/** People who finished onboarding (not under test here), each with their own chat. */
async function users(h: Harness, firstId: number, n: number): Promise<TelegramUserClient[]> {
  const clients = Array.from({ length: n }, (_, i) => h.emulator.client(TOKEN, { userId: firstId + i, languageCode: 'en' }));
  await grantConsents(serviceUrls().mongoUrl, h.prefix, 'en', clients.map((c) => c.userId));
  return clients;
}

/** Each user sends one message at once; resolves with the update ids once every reply arrived. */
async function burst(clients: readonly TelegramUserClient[], label: string): Promise<{ ids: number[]; texts: string[] }> {
  const texts = clients.map((c) => `${label} from ${c.userId}`);
  const sent = await Promise.all(clients.map((c, i) => c.sendText(texts[i]!)));
  const replies = await Promise.all(clients.map((c) => c.waitForBotMessages(1, 20_000)));
  expect(replies.map(([m]) => m?.text)).toEqual(texts.map(reply));
  return { ids: sent.map((s) => s.updateId), texts };
}

describe('three workers, one breaker: the primary fails, the cluster switches together and comes back with one probe', () => {
  const OPEN_MS = 5_000;
  let h: Harness | undefined;
  let open: Incident;
  /** Fallback requests before the open period's burst. */
  let fallbackBefore = 0;

  beforeAll(async () => {
    h = await startHarness(OPEN_MS);
  });
  afterAll(() => stopHarness(h));

  it(`opens after exactly ${FAILURES} failures of the primary (closed → open, logged once)`, async () => {
    const { gemini, openai } = h!;
    // Warm-up through the primary, so every process has loaded its code and opened its connections.
    await burst(await users(h!, 3001, 6), 'warm-up');
    expect(gemini.stats().requests).toBe(2 * 6); // each message: the crisis classifier, then the reply
    gemini.reset();
    openai.reset();

    gemini.configure({ down: true, downMode: 'error', errorStatus: 503 });
    const [person] = (await users(h!, 3101, 1)) as [TelegramUserClient];
    // Every model call of a message (classifier and reply) counts; send until the breaker opens.
    let messages = 0;
    for (let i = 1; messages < FAILURES; i++) {
      await person.sendText(`failing ${i}`);
      const [answer] = await person.waitForBotMessages(1, 20_000);
      expect(answer?.text).toBe(reply(`failing ${i}`)); // the fallback answered
      messages = i;
      const failed = gemini.stats().requests;
      const state = await breakerHash(h!, 'gemini');
      if (failed < FAILURES) expect(state).toMatchObject({ st: 'closed', cf: String(failed) });
      else {
        expect(state).toMatchObject({ st: 'open' });
        break;
      }
    }
    expect(gemini.stats().byKind).toMatchObject({ error: FAILURES, ok: 0 });
    expect(gemini.stats().requests).toBe(FAILURES);
    expect(openai.stats().requests).toBe(2 * messages);
    fallbackBefore = 2 * messages;

    open = await waitFor(() => incidents(h!, 'gemini').find((i) => i.to === 'open'), { message: 'the closed → open incident line' });
    expect(open).toMatchObject({ from: 'closed', to: 'open', reason: 'consecutive_failures' });
    expect(open.openUntil! - open.at).toBe(OPEN_MS);
    expect(incidents(h!, 'gemini')).toHaveLength(1); // once cluster-wide, not once per process
    expect(failedCalls(h!, 'gemini')).toHaveLength(FAILURES);
  });

  it('while open every process answers through the fallback without calling the primary', async () => {
    const { gemini, openai } = h!;
    // 12 messages at once over 3 × 2 job slots: every worker takes some.
    const { ids } = await burst(await users(h!, 3201, 12), 'while open');
    expect(Date.now()).toBeLessThan(open.openUntil!); // still inside the open period (else a probe was allowed)
    expect(gemini.stats().requests).toBe(FAILURES); // no call reached the primary
    expect(openai.stats().requests).toBe(fallbackBefore + 2 * 12);

    const handled = await waitFor(() => {
      const m = handledBy(h!, ids);
      return m.size === ids.length ? m : undefined;
    }, { message: '"update handled" lines for the burst' });
    const perWorker = new Map<string, number>();
    for (const worker of handled.values()) perWorker.set(worker, (perWorker.get(worker) ?? 0) + 1);
    expect([...perWorker.keys()].sort()).toEqual(['worker-1', 'worker-2', 'worker-3']);

    // Per-process propagation: from the open transition to the start of each process's last failed
    // call to the primary after it (0 when there is none).
    const next = incidents(h!, 'gemini').find((i) => i.at > open.at)?.at ?? Infinity;
    const routeMs: Record<string, number> = {};
    for (const worker of h!.cluster!.workers) {
      const late = failedCalls(h!, 'gemini').filter((c) => c.worker === worker.name && c.startedAt >= open.at && c.startedAt < next);
      routeMs[worker.name] = late.length ? Math.max(...late.map((c) => c.startedAt)) - open.at : 0;
    }
    // And what the fallback answers cost each message: skipping an open breaker is a memory lookup.
    const answers = fallbackAnswers(h!).filter((a) => a.startedAt >= open.at);
    const failoverMs = answers.map((a) => a.failoverMs);
    console.log(`[e2e] breaker open: handled per worker ${JSON.stringify(Object.fromEntries(perWorker))}; propagation (ms) ${JSON.stringify(routeMs)}; fallback failoverMs max ${Math.max(...failoverMs)} (n=${failoverMs.length})`);
    expect(Math.max(...Object.values(routeMs))).toBeLessThanOrEqual(PROPAGATION_MS);
    expect(Object.keys(routeMs)).toHaveLength(3);
    expect(new Set(answers.map((a) => a.worker)).size).toBe(3);
    expect(answers.every((a) => a.provider === 'openai')).toBe(true);
    expect(Math.max(...failoverMs)).toBeLessThanOrEqual(PROPAGATION_MS);
  });

  it('after the open period exactly one probe reaches the primary, concurrent messages go to the fallback, and its success closes the breaker', async () => {
    const { gemini, openai } = h!;
    gemini.configure({ down: false }); // healthy again
    // The probe's answer takes 1.5 s, so the burst's other messages all ask while it runs.
    gemini.script({ delayMs: 1_500 });
    await sleep(open.openUntil! - Date.now() + 50);
    const before = { gemini: gemini.stats().requests, openai: openai.stats().requests };

    const clients = await users(h!, 3301, 6);
    const texts = clients.map((c) => `probe time from ${c.userId}`);
    await Promise.all(clients.map((c, i) => c.sendText(texts[i]!)));
    // Five messages are answered by the fallback (classifier and reply) while the probe is still running…
    await waitFor(() => openai.stats().requests - before.openai === 2 * 5, { timeoutMs: 10_000, message: 'five fallback answers' });
    expect(gemini.stats().requests - before.gemini).toBe(1);
    expect(gemini.stats().inFlight).toBe(1);
    // …then the probe (the first call of the sixth message) succeeds, and its reply comes from the primary too.
    const replies = await Promise.all(clients.map((c) => c.waitForBotMessages(1, 20_000)));
    expect(replies.map(([m]) => m?.text)).toEqual(texts.map(reply));
    expect(gemini.stats().requests - before.gemini).toBe(2);
    expect(texts).toContain(askedTexts(gemini).at(-1)); // the probe was one of the burst's messages

    const after = await waitFor(() => {
      const list = incidents(h!, 'gemini');
      return list.some((i) => i.to === 'closed') ? list : undefined;
    }, { message: 'the half_open → closed incident line' });
    expect(after.map((i) => [i.from, i.to, i.reason])).toEqual([
      ['closed', 'open', 'consecutive_failures'],
      ['open', 'half_open', 'probe_granted'],
      ['half_open', 'closed', 'probe_succeeded'],
    ]);
    expect(await breakerHash(h!, 'gemini')).toMatchObject({ st: 'closed' });

    // The primary answers again.
    const [person] = (await users(h!, 3401, 1)) as [TelegramUserClient];
    await person.sendText('back to normal');
    const [answer] = await person.waitForBotMessages(1, 20_000);
    expect(answer?.text).toBe(reply('back to normal'));
    expect(askedTexts(gemini).at(-1)).toBe('back to normal');
    expect(openai.stats().requests - before.openai).toBe(2 * 5);
  });
});

describe('both providers down: one note with the crisis contacts per waiting chat (the classifier cannot run), then the real replies in order', () => {
  let h: Harness | undefined;

  beforeAll(async () => {
    h = await startHarness(1_000);
  });
  afterAll(() => stopHarness(h));

  it('parks the chats while every provider is down, tells each person once, and answers every message once, in order, after recovery', async () => {
    const { gemini, openai } = h!;
    await burst(await users(h!, 4001, 3), 'warm-up');
    gemini.configure({ down: true, downMode: 'error', errorStatus: 503 });
    openai.configure({ down: true, downMode: 'error', errorStatus: 503 });

    const [ann, bob, cyd] = (await users(h!, 4101, 3)) as [TelegramUserClient, TelegramUserClient, TelegramUserClient];
    const sent: Array<{ client: TelegramUserClient; text: string }> = [
      { client: ann, text: 'first from ann' },
      { client: bob, text: 'only from bob' },
      { client: cyd, text: 'only from cyd' },
    ];
    await Promise.all(sent.map((s) => s.client.sendText(s.text)));
    // The crisis classifier cannot run either: the note with the contacts, not "I need a moment".
    const isNote = (text: string) => text.startsWith(TEXTS.en.safetyUnchecked);
    for (const s of sent) expect(isNote((await s.client.waitForBotMessages(1, 20_000))[0]?.text ?? '')).toBe(true);
    // A second message from the same person waits behind the first, in order, without a second notice.
    sent.push({ client: ann, text: 'second from ann' });
    await ann.sendText('second from ann');

    // Stay down until the parked jobs have been retried (and parked again) without new notices.
    const delayed = () => logRecords(h!.cluster!.workers).filter((l) => l.msg === 'turn deferred; chat waits' && l.reason === 'safety_unchecked').length;
    await waitFor(() => delayed() >= sent.length + 2, { timeoutMs: 20_000, message: 'parked jobs retried while still down' });
    expect(incidents(h!, 'gemini').some((i) => i.to === 'open')).toBe(true);
    expect(incidents(h!, 'openai').some((i) => i.to === 'open')).toBe(true);

    const recoveredAt = Date.now();
    gemini.configure({ down: false });
    openai.configure({ down: false });
    await waitFor(
      async () => {
        const all = await Promise.all([ann, bob, cyd].map((c) => c.botMessages()));
        return all.flat().filter((m) => m.text.startsWith('Mock reply to: ')).length >= sent.length;
      },
      { timeoutMs: 40_000, intervalMs: 100, message: 'the real replies after recovery' },
    );
    const waitedMs = Date.now() - recoveredAt;
    await sleep(1_500); // a duplicate would arrive within this

    for (const client of [ann, bob, cyd]) {
      const texts = (await client.botMessages()).map((m) => m.text);
      const mine = sent.filter((s) => s.client === client).map((s) => s.text);
      expect(texts.filter(isNote)).toHaveLength(1);
      expect(texts.filter((t) => !isNote(t))).toEqual(mine.map(reply)); // each once, in send order
    }
    console.log(`[e2e] both providers down: ${sent.length} messages, ${delayed()} parkings, real replies ${waitedMs} ms after recovery`);

    // Stored once each: one user and one assistant message per turn.
    const mongo = new MongoClient(serviceUrls().mongoUrl);
    try {
      const stored = await mongo
        .db(h!.prefix)
        .collection('messages')
        .find({ userId: { $in: ['tg:4101', 'tg:4102', 'tg:4103'] } })
        .toArray();
      expect(stored.filter((m) => m.role === 'user')).toHaveLength(sent.length);
      expect(stored.filter((m) => m.role === 'assistant')).toHaveLength(sent.length);
    } finally {
      await mongo.close();
    }
  });
});
