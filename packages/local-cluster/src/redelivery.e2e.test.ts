/**
 * Evidence that Telegram's redeliveries are answered once: every update is POSTed to the webhook
 * three times — all at once, while its model call runs, after its reply was sent, and interleaved
 * with a chat's later updates — and each must get exactly one reply and exactly one model reply
 * call (plus its one crisis-classifier call), through the real ingress and two worker processes.
 */
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { isClassifierRequest, startMockGemini, startTelegramEmulator, type MockLlmServer, type TelegramEmulator } from '@inner-talk/mocks';
import { ChatInbox, QUEUE_NAMES } from '@inner-talk/queue';
import { postUpdate, serviceUrls, textUpdate, uniquePrefix, waitFor } from '@inner-talk/testkit';
import { clearClusterData, grantConsents, startLocalCluster, type LocalCluster } from './index';
import { parseKeyring, Vault } from '@inner-talk/vault';

const TOKEN = '141421:redelivery-e2e-token';
const SECRET = 'redelivery_webhook_secret_0123456789abcdef';
const COPIES = 3;
const LATENCY_MS = 80;
/** A second reply or model call would show up within this after the first. */
const SETTLE_MS = 1_500;

interface Harness {
  emulator: TelegramEmulator;
  gemini: MockLlmServer;
  cluster?: LocalCluster;
  prefix: string;
  redis: Redis;
}

interface Message {
  updateId: number;
  chat: number;
  text: string;
}

let h: Harness | undefined;
let nextUpdateId = 6_000_000;
let nextChat = 830_001;
/** Every update posted by any test, with the statuses its POSTs got. */
const posted = new Map<number, { message: Message; statuses: number[] }>();

beforeAll(async () => {
  const prefix = uniquePrefix('redelivery');
  h = {
    prefix,
    redis: new Redis(serviceUrls().redisUrl),
    emulator: await startTelegramEmulator(),
    gemini: await startMockGemini({ config: { latency: { kind: 'fixed', ms: LATENCY_MS } }, requestLogSize: 1_000 }),
  };
  const { redisUrl, mongoUrl } = serviceUrls();
  h.cluster = await startLocalCluster({
    workers: 2,
    redisUrl,
    mongoUrl,
    prefix,
    mongoDb: prefix,
    telegram: { token: TOKEN, apiRoot: h.emulator.apiRoot },
    ingress: { mode: 'webhook', secret: SECRET },
    llm: [{ name: 'gemini', api: 'gemini', keys: ['redelivery-gemini-key'], baseUrl: h.gemini.sdkBaseUrl }],
    workerConcurrency: 4,
    // One reply per message, so a chat's consecutive updates are not merged into one turn.
    extraEnv: { COALESCE_WINDOW_MS: '0' },
  });
}, 60_000);

afterAll(async () => {
  if (!h) return;
  await h.cluster?.stop();
  await h.emulator.close();
  await h.gemini.close();
  h.redis.disconnect();
  const { redisUrl, mongoUrl } = serviceUrls();
  await clearClusterData(redisUrl, mongoUrl, h.prefix, h.prefix);
}, 60_000);

/** New people who have consented, each in their own private chat. */
async function chats(n: number): Promise<number[]> {
  const ids = Array.from({ length: n }, () => nextChat++);
  await grantConsents(serviceUrls().mongoUrl, h!.prefix, 'en', ids);
  return ids;
}

function message(chat: number, label: string): Message {
  const updateId = nextUpdateId++;
  return { updateId, chat, text: `${label} (update ${updateId})` };
}

/** Delivers `m` once more, as Telegram does, and records the status. */
async function deliver(m: Message): Promise<number> {
  const entry = posted.get(m.updateId) ?? { message: m, statuses: [] };
  posted.set(m.updateId, entry);
  const { status } = await postUpdate(h!.cluster!.webhookUrl!, textUpdate(m.updateId, m.chat, m.text), SECRET);
  entry.statuses.push(status);
  return status;
}

const replyOf = (m: Message) => `Mock reply to: ${m.text}`;

/** The texts the bot sent to `chat`, oldest first. */
const repliesIn = (chat: number): string[] =>
  h!.emulator
    .apiCalls(TOKEN)
    .filter((c) => c.method === 'sendMessage' && c.status === 200 && Number(c.payload.chat_id) === chat)
    .map((c) => String(c.payload.text));

/** Model requests whose last user turn is `m`'s text, split by kind. */
function modelCalls(m: Message): { classifier: number; reply: number } {
  const mine = h!.gemini.requests().filter((r) => r.messages.at(-1)?.text === m.text);
  return { classifier: mine.filter(isClassifierRequest).length, reply: mine.filter((r) => !isClassifierRequest(r)).length };
}

async function waitForReplies(chat: number, count: number): Promise<void> {
  await waitFor(() => repliesIn(chat).length >= count, { timeoutMs: 30_000, message: `${count} replies in chat ${chat}` });
}

/** After the dust settles: each message answered once, in order, and asked of the model once. */
async function expectAnsweredOnce(byChat: ReadonlyMap<number, readonly Message[]>): Promise<void> {
  for (const [chat, list] of byChat) await waitForReplies(chat, list.length);
  await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
  for (const [chat, list] of byChat) {
    expect({ chat, replies: repliesIn(chat) }).toEqual({ chat, replies: list.map(replyOf) });
    for (const m of list) expect({ text: m.text, calls: modelCalls(m) }).toEqual({ text: m.text, calls: { classifier: 1, reply: 1 } });
    // Nothing waits to be answered again later (a copy appended without a job would only be
    // found by the sweeper, long after this test looked at the replies).
    const inbox = new ChatInbox(h!.redis, h!.prefix, new Vault(parseKeyring(h!.cluster!.keyring)));
    expect({ chat, waiting: await inbox.length(inbox.pseudonymOf(String(chat))) }).toEqual({ chat, waiting: 0 });
  }
}

it(`answers once when the ${COPIES} copies of an update arrive at the same moment`, async () => {
  const people = await chats(10);
  const sent = people.map((chat) => message(chat, 'three at once'));
  const statuses = await Promise.all(sent.flatMap((m) => Array.from({ length: COPIES }, () => deliver(m))));
  expect(statuses).toEqual(Array(sent.length * COPIES).fill(200));
  await expectAnsweredOnce(new Map(sent.map((m) => [m.chat, [m]])));
});

it('answers once when copies arrive one after another, before the first is answered', async () => {
  const people = await chats(5);
  const sent = people.map((chat) => message(chat, 'back to back'));
  for (const m of sent) for (let i = 0; i < COPIES; i++) expect(await deliver(m)).toBe(200);
  await expectAnsweredOnce(new Map(sent.map((m) => [m.chat, [m]])));
});

it('answers once when copies arrive while the model is still answering the first', async () => {
  const [chat] = (await chats(1)) as [number];
  const m = message(chat, 'while the model thinks');
  h!.gemini.configure({ latency: { kind: 'fixed', ms: 1_500 } });
  try {
    expect(await deliver(m)).toBe(200);
    await waitFor(() => modelCalls(m).reply === 1 && h!.gemini.stats().inFlight > 0, { timeoutMs: 20_000, message: 'the reply call in flight' });
    const statuses = await Promise.all(Array.from({ length: COPIES - 1 }, () => deliver(m)));
    expect(statuses).toEqual([200, 200]);
    expect(repliesIn(chat)).toEqual([]); // the copies really did arrive before the reply
  } finally {
    h!.gemini.configure({ latency: { kind: 'fixed', ms: LATENCY_MS } });
  }
  await expectAnsweredOnce(new Map([[chat, [m]]]));
});

it('sends nothing more when copies arrive after the reply was sent', async () => {
  const people = await chats(5);
  const sent = people.map((chat) => message(chat, 'already answered'));
  for (const m of sent) expect(await deliver(m)).toBe(200);
  for (const m of sent) await waitForReplies(m.chat, 1);
  // Telegram redelivers when it missed our 200 (a timeout, a dropped connection) — even much later.
  for (const m of sent) expect([await deliver(m), await deliver(m)]).toEqual([200, 200]);
  await expectAnsweredOnce(new Map(sent.map((m) => [m.chat, [m]])));
});

it('keeps a chat in first-arrival order when its updates are redelivered among later ones', async () => {
  const people = await chats(3);
  const byChat = new Map(people.map((chat) => [chat, [1, 2, 3].map((n) => message(chat, `message ${n} of 3`))]));
  // Per chat: 1 1 2 1 3 2 3 2 3 — each update three times, copies of earlier ones after later ones.
  const pattern = [0, 0, 1, 0, 2, 1, 2, 1, 2];
  await Promise.all(
    [...byChat.values()].map(async (list) => {
      for (const i of pattern) expect(await deliver(list[i]!)).toBe(200);
    }),
  );
  await expectAnsweredOnce(byChat);
});

// Last: sums up every test above.
it(`delivered every update ${COPIES} times, acknowledged each, and asked the model twice per update in total`, async () => {
  for (const { message: m, statuses } of posted.values()) expect({ update: m.updateId, statuses }).toEqual({ update: m.updateId, statuses: Array(COPIES).fill(200) });
  const queue = new Queue(QUEUE_NAMES.updates, { connection: { url: serviceUrls().redisUrl }, prefix: h!.prefix });
  try {
    expect(await queue.getFailedCount()).toBe(0);
  } finally {
    await queue.close();
  }
  const totals = h!.gemini.stats();
  console.log(`[e2e] redelivery: ${posted.size} updates × ${COPIES} POSTs, ${totals.requests} model requests, ${h!.emulator.apiCalls(TOKEN).filter((c) => c.method === 'sendMessage').length} replies`);
  expect(totals.requests).toBe(2 * posted.size);
});
