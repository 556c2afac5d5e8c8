/**
 * Nothing personal in plaintext at rest, through the real apps: the strict Bot API stand-in
 * delivers a person's updates to the ingress webhook → sealed per-chat inbox in Redis + BullMQ → two
 * worker processes → MongoDB, with the mock Gemini API. The person onboards (consent given with the
 * buttons), talks, takes a PHQ-9 whose item 9 raises a risk event, asks for an export and forgets.
 *
 * (a) While their messages wait or are being answered, and after, no Redis key name or value (of
 *     any type) holds their texts or first name in plaintext.
 * (b) After /forget, neither Redis nor any MongoDB collection holds their Telegram id (as a number,
 *     as `tg:<id>`, or as the chat's pseudonymous key) nor any of their texts; the audit log keeps
 *     ids and outcomes only.
 * (c) /export shows the audit entries about them.
 */
import { Redis } from 'ioredis';
import { MongoClient } from 'mongodb';
import { fill, TEXTS } from '@inner-talk/conversation';
import { startMockGemini, startStrictBotApi, type MockLlmServer, type StrictBotApi, type StrictBotApiCall } from '@inner-talk/mocks';
import { callbackQueryUpdate, privateMessageUpdate, redisDump, serviceUrls, uniquePrefix, waitFor, type TelegramPerson } from '@inner-talk/testkit';
import { parseKeyring, Vault } from '@inner-talk/vault';
import { startLocalCluster, type LocalCluster } from './index';

const TOKEN = '314159:at-rest-e2e-token';
// Telegram's rule allows 1–256 characters; ours asks for at least 32.
const SECRET = 'at-rest-webhook-secret-0123456789-abcdef';
const WAIT_MS = 30_000;
// Ten digits: long enough not to turn up by chance in a timestamp or a sealed value.
const PERSON: TelegramPerson = { id: 5_550_123_987, firstName: 'Quillonia', languageCode: 'en' };
// Each text carries a marker word that appears nowhere else.
const TEXTS_SENT = {
  beforeConsent: 'zebrafinch: can I talk before agreeing?',
  first: 'I keep thinking about xylophonica at night',
  second: 'my brother and the marmalux argument',
  third: 'tired of the quintessor exams',
};
const MARKERS = ['zebrafinch', 'xylophonica', 'marmalux', 'quintessor', PERSON.firstName!];

interface Harness {
  cluster: LocalCluster;
  telegram: StrictBotApi;
  gemini: MockLlmServer;
  prefix: string;
  redis: Redis;
  mongo: MongoClient;
}

let h: Harness | undefined;
let nextUpdateId = 1000;

beforeAll(async () => {
  const { redisUrl, mongoUrl } = serviceUrls();
  const prefix = uniquePrefix('atrest');
  const telegram = await startStrictBotApi({ token: TOKEN });
  telegram.addPrivateChat(PERSON.id);
  // Slow enough that a message is still in its inbox (and its job active) while the test looks.
  const gemini = await startMockGemini({ config: { latency: { kind: 'fixed', ms: 700 } } });
  const cluster = await startLocalCluster({
    workers: 2,
    redisUrl,
    mongoUrl,
    prefix,
    mongoDb: prefix,
    telegram: { token: TOKEN, apiRoot: telegram.apiRoot },
    ingress: { mode: 'webhook', secret: SECRET, register: true },
    llm: [{ name: 'gemini', api: 'gemini', keys: ['at-rest-gemini-key'], baseUrl: gemini.sdkBaseUrl }],
    extraEnv: { COALESCE_WINDOW_MS: '0' },
  });
  h = { cluster, telegram, gemini, prefix, redis: new Redis(redisUrl), mongo: new MongoClient(mongoUrl) };
}, 90_000);

afterAll(async () => {
  if (!h) return;
  await h.cluster.stop();
  await h.telegram.close();
  await h.gemini.close();
  await h.mongo.db(h.prefix).dropDatabase().catch(() => undefined);
  await h.mongo.close();
  const keys = await h.redis.keys(`${h.prefix}:*`);
  if (keys.length) await h.redis.del(...keys);
  await h.redis.quit();
});

// ------------------------------------------------------------------------------------------ helpers

const repliesToPerson = (): StrictBotApiCall[] => h!.telegram.callsOf('sendMessage').filter((c) => c.ok && Number(c.params.chat_id) === PERSON.id);

/** Delivers an update as Telegram would (webhook POST with the secret header) and checks it was taken. */
async function deliver(update: { update_id: number } & Record<string, unknown>): Promise<void> {
  const result = await h!.telegram.deliver(update);
  expect(result).toEqual({ delivered: true, status: 200 });
}

/** Sends `text` (or a command) from the person and waits for `replies` new bot messages in their chat. */
async function say(text: string, replies = 1, whileWaiting?: () => Promise<void>): Promise<StrictBotApiCall[]> {
  const before = repliesToPerson().length;
  await deliver(privateMessageUpdate(nextUpdateId++, PERSON, text));
  await whileWaiting?.();
  await waitFor(() => repliesToPerson().length >= before + replies, { timeoutMs: WAIT_MS, message: `${replies} replies to "${text.slice(0, 12)}…"` });
  return repliesToPerson().slice(before, before + replies);
}

/** Presses button `index` (row by row) of the bot's message `message` and waits for `replies` new bot messages. */
async function press(message: StrictBotApiCall | undefined, index: number, replies = 1): Promise<StrictBotApiCall[]> {
  const result = message?.result as { message_id: number; reply_markup?: { inline_keyboard: Array<Array<{ callback_data?: string }>> } } | undefined;
  const data = result?.reply_markup?.inline_keyboard.flat()[index]?.callback_data;
  if (data === undefined || !result) throw new Error(`no button ${index} on ${JSON.stringify(message?.result)}`);
  const before = repliesToPerson().length;
  await deliver(callbackQueryUpdate(nextUpdateId++, PERSON, data, { chatId: PERSON.id, messageId: result.message_id }));
  await waitFor(() => repliesToPerson().length >= before + replies, { timeoutMs: WAIT_MS, message: `${replies} replies to a press of ${data}` });
  return repliesToPerson().slice(before, before + replies);
}

const textOf = (call: StrictBotApiCall | undefined) => String(call?.params.text ?? '');

/** Every key and value under the test's prefix whose text contains one of `needles`, as `key: needle`. */
async function redisLeaks(needles: readonly string[]): Promise<string[]> {
  const found: string[] = [];
  for (const [key, value] of Object.entries(await redisDump(h!.redis, h!.prefix))) {
    for (const needle of needles) if (key.includes(needle) || value.includes(needle)) found.push(`${key}: ${needle}`);
  }
  return found;
}

/** Every document (any collection) whose JSON contains one of `needles`, as `collection: needle: json`. */
async function mongoLeaks(needles: readonly string[]): Promise<string[]> {
  const db = h!.mongo.db(h!.prefix);
  const found: string[] = [];
  for (const { name } of await db.listCollections().toArray()) {
    for (const doc of await db.collection(name).find({}).toArray()) {
      const json = JSON.stringify(doc);
      for (const needle of needles) if (json.includes(needle)) found.push(`${name}: ${needle}: ${json}`);
    }
  }
  return found;
}

/** Waits until nothing of the person's chat is queued or being worked on (inbox and lock gone). */
async function chatIdle(): Promise<void> {
  const vault = new Vault(parseKeyring(h!.cluster.keyring));
  const chat = vault.pseudonym(String(PERSON.id), 'chat');
  await waitFor(async () => (await h!.redis.exists(`${h!.prefix}:chat:{${chat}}:inbox`, `${h!.prefix}:chat:{${chat}}:lock`)) === 0, {
    timeoutMs: WAIT_MS,
    message: 'the chat drained',
  });
}

// ---------------------------------------------------------------------------------------- the test

it('keeps no text, name or id of the person in plaintext at rest, exports their audit entries, and forgets every trace', async () => {
  const id = String(PERSON.id);
  const inFlight: string[][] = [];
  const queuedSeen: number[] = [];
  const inbox = `${h!.prefix}:chat:{${new Vault(parseKeyring(h!.cluster.keyring)).pseudonym(id, 'chat')}}:inbox`;
  const lookWhileQueued = async () => {
    queuedSeen.push(await h!.redis.llen(inbox));
    inFlight.push(await redisLeaks(MARKERS));
  };

  // Onboarding: language, a message before consent (kept nowhere), 18+, consent.
  const [languages] = await say('/start');
  expect(textOf(languages)).toBe(TEXTS.en.chooseLanguage);
  const [adult] = await press(languages, 1);
  const reminder = await say(TEXTS_SENT.beforeConsent, 2, lookWhileQueued);
  expect(textOf(reminder[0])).toBe(TEXTS.en.finishOnboardingFirst);
  expect(textOf(reminder[1])).toBe(textOf(adult));
  const [consent] = await press(reminder[1], 0);
  expect(textOf(consent)).toBe(fill(TEXTS.en.askConsent, { processors: 'Google (Gemini API)' }));
  const [ready] = await press(consent, 0);
  expect(textOf(ready)).toBe(TEXTS.en.consentGiven);

  // Talking: each message is looked for in Redis while it waits for (or gets) its answer.
  for (const text of [TEXTS_SENT.first, TEXTS_SENT.second, TEXTS_SENT.third]) {
    const [answer] = await say(text, 1, lookWhileQueued);
    expect(textOf(answer)).toBe(`Mock reply to: ${text}`);
  }
  expect(inFlight).toHaveLength(4);
  expect(inFlight.flat()).toEqual([]);
  // The looks did catch messages waiting in the inbox (sealed), not an empty Redis.
  expect(queuedSeen.filter((length) => length > 0).length).toBeGreaterThanOrEqual(3);

  // PHQ-9 with item 9 above 0: the crisis reply, and a risk event.
  const [menu] = await say('/test');
  let [, question] = await press(menu, 0, 2);
  for (let i = 0; i < 8; i++) [question] = await press(question, 1);
  const [crisis, result] = await press(question, 2, 2);
  expect(textOf(crisis)).toContain(TEXTS.en.crisisItem9);
  expect(textOf(result)).toContain(TEXTS.en.bandModerate);
  await chatIdle();

  // (a) After every message was handled: still no text or name in Redis.
  expect(await redisLeaks(MARKERS)).toEqual([]);
  // Sealed in MongoDB too: the risk event's level and sources, the result's band and item-9 flag.
  const db = h!.mongo.db(h!.prefix);
  const events = await db.collection('risk_events').find({ userId: `tg:${id}` }).toArray();
  expect(events).toHaveLength(1);
  expect(JSON.stringify(events)).not.toMatch(/high|phq9_item9/);
  const run = await db.collection('assessments').findOne({ userId: `tg:${id}`, status: 'completed' });
  expect(JSON.stringify(run)).not.toMatch(/moderate|item9|true/);
  expect(await mongoLeaks(MARKERS)).toEqual([]);

  // (c) A refused /admin is audited; /export shows that entry, and the risk event opened.
  expect(textOf((await say('/admin stats'))[0])).toBe(TEXTS.en.unknownCommand);
  const before = h!.telegram.callsOf('sendDocument').length;
  await deliver(privateMessageUpdate(nextUpdateId++, PERSON, '/export'));
  await waitFor(() => h!.telegram.callsOf('sendDocument').filter((c) => c.ok).length > before, { timeoutMs: WAIT_MS, message: 'the export file' });
  const upload = h!.telegram.callsOf('sendDocument').filter((c) => c.ok)[before]!;
  const exported = JSON.parse((upload.params.document as { content: Buffer }).content.toString('utf8')) as {
    collections: Record<string, Array<Record<string, unknown>>>;
    audit: Array<Record<string, unknown>>;
  };
  expect(exported.audit).toEqual([expect.objectContaining({ actor: `user:tg:${id}`, action: 'admin.refused' })]);
  expect(exported.collections.risk_events).toEqual([expect.objectContaining({ level: 'high', sources: ['phq9_item9'] })]);
  expect(exported.collections.messages?.map((m) => m.text)).toEqual(expect.arrayContaining(Object.values(TEXTS_SENT).slice(1)));
  await chatIdle();

  // (b) /forget, confirmed.
  const [ask] = await say('/forget');
  expect(textOf(ask)).toBe(TEXTS.en.forgetConfirm);
  const [done] = await press(ask, 0);
  expect(textOf(done)).toBe(TEXTS.en.forgetDone);
  await chatIdle();

  const chatKeys = new Vault(parseKeyring(h!.cluster.keyring)).pseudonyms(id, 'chat');
  const traces = [id, `tg:${id}`, ...chatKeys, ...MARKERS, ...Object.values(TEXTS_SENT)];
  expect(await redisLeaks(traces)).toEqual([]);
  const left = await mongoLeaks(traces);
  // Only the audit log mentions the person, by id, and says what was done, never what was written.
  expect(left.every((found) => found.startsWith('audit_log: '))).toBe(true);
  const audit = await db.collection('audit_log').find({ subject: `tg:${id}` }).toArray();
  expect(audit.map((a) => a.action).sort()).toEqual(['data.export', 'data.forget']);
  const auditJson = JSON.stringify(await db.collection('audit_log').find({}).toArray());
  for (const marker of MARKERS) expect(auditJson).not.toContain(marker);
}, 240_000);
