/**
 * Evidence for per-chat order across processes: three workers with several jobs in flight each,
 * 50 chats × 20 messages posted to the webhook interleaved round-robin (as Telegram delivers a busy
 * bot's updates), a model with random latency so turns finish out of arrival order. Every chat must
 * get exactly its 20 replies, once each, in the order it sent them — while different chats are
 * answered in parallel by every worker.
 */
import { isClassifierRequest, startMockGemini, startTelegramEmulator, type MockLlmServer, type TelegramEmulator } from '@inner-talk/mocks';
import { logRecords, postUpdate, serviceUrls, textUpdate, uniquePrefix } from '@inner-talk/testkit';
import { clearClusterData, grantConsents, startLocalCluster, type LocalCluster } from './index';

const TOKEN = '161803:ordering-e2e-token';
const SECRET = 'ordering_webhook_secret_0123456789abcdef';
const CHATS = 50;
const MESSAGES = 20;
const WORKERS = 3;
const CONCURRENCY = 4;
const FIRST_CHAT = 820_001;
const FIRST_UPDATE = 5_000_000;
/** No new reply for this long means a chat is stuck, however slow the machine. */
const STALL_MS = 30_000;

interface Harness {
  emulator: TelegramEmulator;
  gemini: MockLlmServer;
  cluster?: LocalCluster;
  prefix: string;
}

let h: Harness | undefined;

beforeAll(async () => {
  const prefix = uniquePrefix('ordering');
  h = {
    prefix,
    emulator: await startTelegramEmulator(),
    // Log-normal: most turns quick, a long tail that lets later turns of other chats overtake.
    gemini: await startMockGemini({ config: { latency: { kind: 'lognormal', medianMs: 40, p99Ms: 250, maxMs: 600 }, seed: 20261203 }, requestLogSize: 2 * CHATS * MESSAGES + 100 }),
  };
  const { redisUrl, mongoUrl } = serviceUrls();
  h.cluster = await startLocalCluster({
    workers: WORKERS,
    redisUrl,
    mongoUrl,
    prefix,
    mongoDb: prefix,
    telegram: { token: TOKEN, apiRoot: h.emulator.apiRoot },
    ingress: { mode: 'webhook', secret: SECRET },
    llm: [{ name: 'gemini', api: 'gemini', keys: ['ordering-gemini-key'], baseUrl: h.gemini.sdkBaseUrl }],
    workerConcurrency: CONCURRENCY,
    logLevel: 'info',
    // One reply per message: rapid texts of a chat would otherwise be answered as one turn, and
    // 20 messages in a few seconds would meet the per-person rate limit's "slow down" note.
    extraEnv: { COALESCE_WINDOW_MS: '0', USER_MESSAGES_PER_MINUTE: String(10 * MESSAGES) },
  });
}, 60_000);

afterAll(async () => {
  if (!h) return;
  await h.cluster?.stop();
  await h.emulator.close();
  await h.gemini.close();
  const { redisUrl, mongoUrl } = serviceUrls();
  await clearClusterData(redisUrl, mongoUrl, h.prefix, h.prefix);
}, 60_000);

interface Sent {
  updateId: number;
  chat: number;
  text: string;
}

/**
 * Attempts from the workers' "update handled" lines (end = log time, start = end − ms). A turn's
 * line is written before the chat's next turn can start, so one chat's intervals never overlap.
 */
interface Turn {
  updateId: number;
  worker: string;
  outcome: string;
  start: number;
  end: number;
}

/** The most intervals open at one instant (ends before starts at the same millisecond). */
function peakOverlap(turns: readonly Turn[]): number {
  const events = turns.flatMap((t) => [
    { at: t.start, delta: 1 },
    { at: t.end, delta: -1 },
  ]);
  events.sort((a, b) => a.at - b.at || a.delta - b.delta);
  let open = 0;
  let peak = 0;
  for (const e of events) {
    open += e.delta;
    peak = Math.max(peak, open);
  }
  return peak;
}

it(`${CHATS} chats × ${MESSAGES} interleaved messages: each chat's replies arrive once each, in send order, answered in parallel by ${WORKERS} workers`, async () => {
  const { emulator, gemini, cluster } = h!;
  const chats = Array.from({ length: CHATS }, (_, i) => FIRST_CHAT + i);
  await grantConsents(serviceUrls().mongoUrl, h!.prefix, 'en', chats);

  // Round-robin: message r of every chat before message r + 1 of any; update ids rise in send order,
  // and each POST is acknowledged (stored) before the next, as Telegram does per chat.
  const sent: Sent[] = [];
  const startedAt = Date.now();
  for (let r = 0; r < MESSAGES; r++) {
    for (const chat of chats) {
      const item = { updateId: FIRST_UPDATE + sent.length, chat, text: `chat ${chat} says ${r + 1} of ${MESSAGES}` };
      const res = await postUpdate(cluster!.webhookUrl!, textUpdate(item.updateId, chat, item.text), SECRET);
      expect(res.status).toBe(200);
      sent.push(item);
    }
  }
  const postedMs = Date.now() - startedAt;

  const replies = () => emulator.apiCalls(TOKEN).filter((c) => c.method === 'sendMessage' && c.status === 200);
  // About 100 s on an otherwise idle 2-core machine, bound by the storage (FerretDB on SQLite scans
  // a collection for each history read, so turns slow down as it grows), and much longer on a busy
  // one. Speed is not the claim here: fail on a stall (a chat stuck), not on a slow machine.
  for (let seen = 0, progressAt = Date.now(); replies().length < sent.length; ) {
    const count = replies().length;
    if (count > seen) [seen, progressAt] = [count, Date.now()];
    if (Date.now() - progressAt > STALL_MS) throw new Error(`no new reply for ${STALL_MS} ms, at ${count} of ${sent.length}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  const answeredMs = Date.now() - startedAt;
  // A duplicate (a turn handled twice) would arrive within this.
  await new Promise((resolve) => setTimeout(resolve, 1_500));

  // Per chat: exactly the expected replies, in the order the messages were sent (the emulator
  // records calls as they arrive, and one chat's turns never overlap, so arrival order is send order).
  const byChat = new Map<number, string[]>();
  for (const call of replies()) {
    const chat = Number(call.payload.chat_id);
    byChat.set(chat, [...(byChat.get(chat) ?? []), String(call.payload.text)]);
  }
  expect([...byChat.keys()].sort((a, b) => a - b)).toEqual(chats);
  for (const chat of chats) {
    expect({ chat, replies: byChat.get(chat) }).toEqual({ chat, replies: sent.filter((s) => s.chat === chat).map((s) => `Mock reply to: ${s.text}`) });
  }
  expect(replies()).toHaveLength(CHATS * MESSAGES);

  // One classifier call and one reply call per message: nothing was asked twice.
  const asked = gemini.requests().filter((r) => !isClassifierRequest(r));
  expect(gemini.stats().requests).toBe(2 * sent.length);
  expect(new Set(asked.map((r) => r.messages.at(-1)?.text)).size).toBe(sent.length);

  // Who handled what, from the workers' own lines: every update exactly once with outcome ok
  // (a failed attempt that was retried would be legitimate, and is reported, not forbidden).
  const chatOf = new Map(sent.map((s) => [s.updateId, s.chat]));
  const attempts: Turn[] = logRecords(cluster!.workers, 'file')
    .filter((l) => l.msg === 'update handled' && chatOf.has(Number(l.updateId)))
    .map((l) => ({ updateId: Number(l.updateId), worker: l.app, outcome: String(l.outcome), end: Number(l.time), start: Number(l.time) - Number(l.ms) }));
  const turns = attempts.filter((t) => t.outcome === 'ok');
  expect(turns).toHaveLength(sent.length);
  expect(new Set(turns.map((t) => t.updateId)).size).toBe(sent.length);

  // One chat: its attempts one after another, in update order (never two at once, even across workers).
  const chatWorkers = new Map<number, Set<string>>();
  for (const chat of chats) {
    const own = attempts.filter((t) => chatOf.get(t.updateId) === chat).sort((a, b) => a.start - b.start || a.end - b.end);
    expect(own.filter((t) => t.outcome === 'ok').map((t) => t.updateId)).toEqual(sent.filter((s) => s.chat === chat).map((s) => s.updateId));
    for (let i = 1; i < own.length; i++) {
      expect(own[i]!.start).toBeGreaterThanOrEqual(own[i - 1]!.end);
      expect(own[i]!.updateId).toBeGreaterThanOrEqual(own[i - 1]!.updateId);
    }
    chatWorkers.set(chat, new Set(own.map((t) => t.worker)));
  }

  // Different chats: in parallel, on every worker and within each worker.
  const perWorker = Object.fromEntries(cluster!.workers.map((w) => [w.name, turns.filter((t) => t.worker === w.name)]));
  const peakPerWorker = Object.fromEntries(Object.entries(perWorker).map(([name, list]) => [name, peakOverlap(list)]));
  const peak = peakOverlap(turns);
  const chatsOnSeveralWorkers = [...chatWorkers.values()].filter((set) => set.size > 1).length;
  console.log(
    `[e2e] ordering: ${sent.length} messages posted in ${postedMs} ms, all answered after ${answeredMs} ms; retried attempts ${attempts.length - turns.length}; turns per worker ${JSON.stringify(Object.fromEntries(Object.entries(perWorker).map(([n, l]) => [n, l.length])))}; ` +
      `peak turns in flight ${peak} (per worker ${JSON.stringify(peakPerWorker)}); chats handled by more than one worker ${chatsOnSeveralWorkers}/${CHATS}`,
  );
  for (const list of Object.values(perWorker)) expect(list.length).toBeGreaterThan(0);
  for (const value of Object.values(peakPerWorker)) expect(value).toBeGreaterThan(1);
  expect(peak).toBeGreaterThan(WORKERS);
}, 300_000);
