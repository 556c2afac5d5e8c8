/**
 * Evidence that the bot serves private chats only and reads what people really send, through the
 * real apps: the strict Bot API stand-in as Telegram (it delivers real-shaped updates to the
 * ingress's registered webhook with the secret header and only the allowed update types, and
 * refuses what Telegram refuses), the ingress in webhook mode, two worker processes, MongoDB and
 * Redis, and the mock Gemini API as the model.
 *
 * Groups: an anonymous admin's `/export@bot`, a member's text, being added, a linked channel's post
 * — each gets at most the one fixed note, the bot leaves, nothing reaches the model or storage.
 * Buttons: a `/forget` press copied from another person or with a made-up nonce deletes nothing.
 * Captions and edits: a crisis statement in a photo caption or edited into a message gets the
 * crisis reply; a harmless edit gets nothing.
 */
import { Redis } from 'ioredis';
import { MongoClient } from 'mongodb';
import { TEXTS } from '@inner-talk/conversation';
import { isClassifierRequest, startMockGemini, startStrictBotApi, type MockLlmServer, type StrictBotApi } from '@inner-talk/mocks';
import { ALLOWED_UPDATES, TELEGRAM_SHARED_SENDERS } from '@inner-talk/telegram';
import {
  addedToGroupUpdate,
  anonymousAdminUpdate,
  callbackQueryUpdate,
  editedMessageUpdate,
  groupMessageUpdate,
  linkedChannelPostUpdate,
  photoUpdate,
  privateMessageUpdate,
  serviceUrls,
  uniquePrefix,
  waitFor,
  type TelegramGroup,
  type TelegramPerson,
} from '@inner-talk/testkit';
import { clearClusterData, grantConsents, startLocalCluster, type LocalCluster } from './index';

const TOKEN = '161803:private-only-e2e-token';
const SECRET = 'private_only_e2e_webhook_secret_0123456789';
const WAIT_MS = 20_000;
/** A reply that should not come would show up within this. */
const SETTLE_MS = 1_500;

const ANN: TelegramPerson = { id: 840_001, firstName: 'Ann', languageCode: 'en' };
const BOB: TelegramPerson = { id: 840_002, firstName: 'Bob', languageCode: 'en' };
const CAROL: TelegramPerson = { id: 840_003, firstName: 'Carol', languageCode: 'en' };
const DAN: TelegramPerson = { id: 840_004, firstName: 'Dan', languageCode: 'en' };
const EVE: TelegramPerson = { id: 840_005, firstName: 'Eve', languageCode: 'ru' };
const OLGA: TelegramPerson = { id: 840_006, firstName: 'Olga', languageCode: 'ru' };
const group = (n: number, type: TelegramGroup['type'] = 'supergroup'): TelegramGroup => ({ id: -100_840_000 - n, type, title: `Circle ${n}` });

interface Harness {
  standIn: StrictBotApi;
  gemini: MockLlmServer;
  cluster?: LocalCluster;
  prefix: string;
  mongo: MongoClient;
  redis: Redis;
}

let h: Harness | undefined;
let nextUpdateId = 9_100_000;
const updateId = () => nextUpdateId++;

beforeAll(async () => {
  const { redisUrl, mongoUrl } = serviceUrls();
  const prefix = uniquePrefix('private-only');
  h = {
    prefix,
    standIn: await startStrictBotApi({ token: TOKEN, bot: { id: 700_000_001, username: 'inner_talk_test_bot', firstName: 'Inner Talk' } }),
    gemini: await startMockGemini({ config: { latency: { kind: 'fixed', ms: 20 } }, requestLogSize: 1_000 }),
    mongo: new MongoClient(mongoUrl),
    redis: new Redis(redisUrl),
  };
  for (const person of [ANN, BOB, CAROL, DAN, EVE, OLGA]) h.standIn.addPrivateChat(person.id);
  for (let n = 1; n <= 5; n++) h.standIn.addGroup(group(n).id, 'supergroup');
  h.standIn.addGroup(group(6, 'channel').id, 'channel');
  // Consent for the shared anonymous-admin id too: a record stored under it before groups were
  // refused is exactly what an anonymous admin's /export would have sent to the group.
  await grantConsents(mongoUrl, prefix, 'en', [ANN.id, BOB.id, CAROL.id, DAN.id, TELEGRAM_SHARED_SENDERS.anonymousAdmin]);
  await grantConsents(mongoUrl, prefix, 'ru', [EVE.id]);
  h.cluster = await startLocalCluster({
    workers: 2,
    redisUrl,
    mongoUrl,
    prefix,
    mongoDb: prefix,
    telegram: { token: TOKEN, apiRoot: h.standIn.apiRoot },
    ingress: { mode: 'webhook', secret: SECRET, register: true },
    llm: [{ name: 'gemini', api: 'gemini', keys: ['private-only-gemini-key'], baseUrl: h.gemini.sdkBaseUrl }],
    workerConcurrency: 4,
    extraEnv: { COALESCE_WINDOW_MS: '0' },
  });
  await waitFor(() => h!.standIn.webhook(), { timeoutMs: WAIT_MS, message: 'the ingress registered its webhook' });
}, 60_000);

afterAll(async () => {
  if (!h) return;
  await h.cluster?.stop();
  await h.standIn.close();
  await h.gemini.close();
  await h.mongo.close();
  h.redis.disconnect();
  const { redisUrl, mongoUrl } = serviceUrls();
  await clearClusterData(redisUrl, mongoUrl, h.prefix, h.prefix);
}, 60_000);

/** Hands an update to the bot as Telegram would; it must reach the webhook and be stored (200). */
async function deliver(update: { update_id: number } & Record<string, unknown>): Promise<void> {
  expect(await h!.standIn.deliver(update)).toEqual({ delivered: true, status: 200 });
}

const sendsTo = (chatId: number) => h!.standIn.callsOf('sendMessage').filter((c) => Number(c.params.chat_id) === chatId);
const acceptedTextsTo = (chatId: number) => sendsTo(chatId).filter((c) => c.ok).map((c) => String(c.params.text));
const leftChats = () => h!.standIn.callsOf('leaveChat').filter((c) => c.ok).map((c) => Number(c.params.chat_id));

/** Every MongoDB document (any collection) whose JSON contains `needle`. */
async function storedInMongo(needle: string): Promise<string[]> {
  const db = h!.mongo.db(h!.prefix);
  const found: string[] = [];
  for (const { name } of await db.listCollections().toArray()) {
    for (const doc of await db.collection(name).find({}).toArray()) {
      const json = JSON.stringify(doc);
      if (json.includes(needle)) found.push(`${name}: ${json}`);
    }
  }
  return found;
}

/** Every Redis key under the cluster's prefix whose name or value contains `needle`. */
async function storedInRedis(needle: string): Promise<string[]> {
  const found: string[] = [];
  for (const key of await h!.redis.keys(`${h!.prefix}:*`)) {
    const type = await h!.redis.type(key);
    let value = '';
    if (type === 'string') value = (await h!.redis.get(key)) ?? '';
    else if (type === 'list') value = (await h!.redis.lrange(key, 0, -1)).join('\n');
    else if (type === 'set') value = (await h!.redis.smembers(key)).join('\n');
    else if (type === 'hash') value = JSON.stringify(await h!.redis.hgetall(key));
    else if (type === 'zset') value = (await h!.redis.zrange(key, '0', '-1')).join('\n');
    if (key.includes(needle) || value.includes(needle)) found.push(key);
  }
  return found;
}

/** Keys of the chat's own (the inbox, its lock, its turn state): none may be left once it was handled. */
async function chatKeysLeft(chatId: number): Promise<string[]> {
  return (await h!.redis.keys(`${h!.prefix}:chat:{${chatId}}:*`)).filter((k) => !/:seen:\d+$/.test(k));
}

const modelCalls = () => h!.gemini.requests().length;

describe('only private chats are served', () => {
  it('registered its webhook with the secret and exactly the update types it handles', () => {
    expect(h!.standIn.webhook()).toMatchObject({ secretToken: SECRET, allowedUpdates: [...ALLOWED_UPDATES] });
    expect(h!.standIn.callsOf('setWebhook').map((c) => [c.ok, c.params.allowed_updates])).toEqual([[true, ['message', 'edited_message', 'callback_query', 'my_chat_member']]]);
    // Telegram itself then drops other types: a channel's own post never reaches the ingress.
    return expect(h!.standIn.deliver({ update_id: updateId(), channel_post: { message_id: 1, date: 0, chat: { id: group(6).id, type: 'channel' }, text: 'post' } })).resolves.toEqual({
      delivered: false,
      reason: 'not_allowed',
    });
  });

  it("an anonymous admin's /export@bot in a supergroup sends no document anywhere: one note, the bot leaves, nothing stored", async () => {
    const circle = group(1);
    const calls = modelCalls();
    await deliver(anonymousAdminUpdate(updateId(), circle, `/export@${h!.standIn.bot.username}`));
    await waitFor(() => leftChats().includes(circle.id), { timeoutMs: WAIT_MS, message: 'the bot left the supergroup' });
    expect(h!.standIn.callsOf('sendDocument')).toEqual([]);
    expect(acceptedTextsTo(circle.id)).toEqual([TEXTS.en.privateChatsOnly]);
    expect(modelCalls()).toBe(calls);
    expect(await storedInMongo(String(circle.id))).toEqual([]);
    expect(await storedInMongo('data.export')).toEqual([]);
    expect(await storedInRedis('/export')).toEqual([]);
    expect(await storedInRedis('Circle 1')).toEqual([]);
    expect(await chatKeysLeft(circle.id)).toEqual([]);
  });

  it('a group text gets no model call and no reply but the one note; later messages there meet a bot that left', async () => {
    const circle = group(2);
    const calls = modelCalls();
    await deliver(groupMessageUpdate(updateId(), circle, ANN, 'I feel so alone tonight'));
    await waitFor(() => leftChats().includes(circle.id), { timeoutMs: WAIT_MS, message: 'the bot left the group' });
    await deliver(groupMessageUpdate(updateId(), circle, OLGA, 'I feel so alone too'));
    await waitFor(async () => (await chatKeysLeft(circle.id)).length === 0, { timeoutMs: WAIT_MS, message: 'the group inbox drained' });
    expect(acceptedTextsTo(circle.id)).toEqual([TEXTS.en.privateChatsOnly]);
    expect(acceptedTextsTo(ANN.id)).toEqual([]);
    expect(modelCalls()).toBe(calls);
    expect(await storedInMongo('alone')).toEqual([]);
    expect(await storedInMongo(String(circle.id))).toEqual([]);
    expect(await storedInRedis('alone')).toEqual([]);
    expect(await storedInRedis('Olga')).toEqual([]);
  });

  it('being added to a group (my_chat_member) brings the note in the adder’s language and leaving', async () => {
    const circle = group(3);
    await deliver(addedToGroupUpdate(updateId(), circle, OLGA, h!.standIn.bot));
    await waitFor(() => leftChats().includes(circle.id), { timeoutMs: WAIT_MS, message: 'the bot left the group it was added to' });
    expect(acceptedTextsTo(circle.id)).toEqual([TEXTS.ru.privateChatsOnly]);
    expect(await storedInMongo(String(circle.id))).toEqual([]);
  });

  it("a linked channel's post (from 777000) is refused: nothing of it stored or answered but the note", async () => {
    const circle = group(4);
    const calls = modelCalls();
    await deliver(linkedChannelPostUpdate(updateId(), circle, group(6, 'channel'), 'Announcement: I want to kill myself is a song title'));
    await waitFor(() => leftChats().includes(circle.id), { timeoutMs: WAIT_MS, message: 'the bot left the discussion group' });
    expect(acceptedTextsTo(circle.id)).toEqual([TEXTS.en.privateChatsOnly]);
    expect(modelCalls()).toBe(calls);
    expect(await storedInMongo(String(TELEGRAM_SHARED_SENDERS.linkedChannel))).toEqual([]);
    expect(await storedInMongo('Announcement')).toEqual([]);
    expect(await storedInRedis('Announcement')).toEqual([]);
  });
});

describe('buttons that delete data are bound to the person', () => {
  it('a /forget press copied from another person, or with a made-up nonce, deletes nothing', async () => {
    await deliver(privateMessageUpdate(updateId(), CAROL, 'I slept badly again'));
    await waitFor(() => acceptedTextsTo(CAROL.id).length === 1, { timeoutMs: WAIT_MS, message: 'Carol got her reply' });
    const collectionsOf = async (person: TelegramPerson) => (await storedInMongo(`tg:${person.id}`)).map((d) => d.split(':')[0]).sort();
    const carolBefore = await collectionsOf(CAROL);
    expect(carolBefore).toEqual(expect.arrayContaining(['consents', 'messages', 'sessions', 'users']));

    await deliver(privateMessageUpdate(updateId(), BOB, '/forget'));
    const ask = await waitFor(() => sendsTo(BOB.id).find((c) => c.ok && c.params.text === TEXTS.en.forgetConfirm), { timeoutMs: WAIT_MS, message: 'Bob was asked to confirm' });
    const keyboard = ask.params.reply_markup as { inline_keyboard: { callback_data: string }[][] };
    const bobsYes = keyboard.inline_keyboard[0]![0]!.callback_data;
    expect(bobsYes).toMatch(/^f:y:[A-Za-z0-9_-]{12}$/);
    const bobsMessage = (ask.result as { message_id: number }).message_id;

    // Carol presses a copy of Bob's button in her own chat; Bob presses a made-up nonce.
    const presses = [callbackQueryUpdate(updateId(), CAROL, bobsYes, { chatId: CAROL.id, messageId: 1 }), callbackQueryUpdate(updateId(), BOB, 'f:y:madeUpNonce0', { chatId: BOB.id, messageId: bobsMessage })];
    for (const press of presses) await deliver(press);
    await waitFor(() => acceptedTextsTo(CAROL.id).length === 2 && acceptedTextsTo(BOB.id).length === 2, { timeoutMs: WAIT_MS, message: 'both presses answered' });
    expect(acceptedTextsTo(CAROL.id)[1]).toBe(TEXTS.en.staleChoice);
    expect(acceptedTextsTo(BOB.id)[1]).toBe(TEXTS.en.staleChoice);
    const answered = h!.standIn.callsOf('answerCallbackQuery').filter((c) => c.ok).map((c) => c.params.callback_query_id);
    expect(answered).toEqual(expect.arrayContaining(presses.map((p) => p.callback_query.id)));
    expect(await collectionsOf(CAROL)).toEqual(carolBefore);
    expect(await collectionsOf(BOB)).toContain('consents');
    expect(await storedInMongo('data.forget')).toEqual([]);
  });
});

describe('captions and edits are read', () => {
  it('a photo captioned "I want to kill myself" gets the crisis reply', async () => {
    const calls = h!.gemini.requests().filter((r) => !isClassifierRequest(r)).length;
    await deliver(photoUpdate(updateId(), DAN, 'I want to kill myself'));
    const [reply] = await waitFor(() => (acceptedTextsTo(DAN.id).length > 0 ? acceptedTextsTo(DAN.id) : null), { timeoutMs: WAIT_MS, message: 'Dan got a reply' });
    expect(reply).toContain(TEXTS.en.crisisHigh);
    expect(reply).not.toBe(TEXTS.en.emptyMessage);
    expect(h!.gemini.requests().filter((r) => !isClassifierRequest(r))).toHaveLength(calls);
  });

  it('an edit into a crisis statement gets the crisis reply; a harmless edit gets nothing', async () => {
    const first = updateId();
    await deliver(privateMessageUpdate(first, EVE, 'у меня был обычный день'));
    await waitFor(() => acceptedTextsTo(EVE.id).length === 1, { timeoutMs: WAIT_MS, message: 'Eve got her reply' });

    await deliver(editedMessageUpdate(updateId(), EVE, first, 'я хочу покончить с собой'));
    await waitFor(() => acceptedTextsTo(EVE.id).length === 2, { timeoutMs: WAIT_MS, message: 'Eve got the crisis reply to her edit' });
    expect(acceptedTextsTo(EVE.id)[1]).toContain(TEXTS.ru.crisisHigh);
    expect((await storedInMongo(`tg:${EVE.id}`)).filter((d) => d.startsWith('risk_events:'))).toHaveLength(1);

    await deliver(editedMessageUpdate(updateId(), EVE, first, 'у меня был хороший день'));
    // A later message is handled after the edit (one chat, in order): its reply comes next, alone.
    await deliver(privateMessageUpdate(updateId(), EVE, 'спасибо'));
    await waitFor(() => acceptedTextsTo(EVE.id).length >= 3, { timeoutMs: WAIT_MS, message: 'Eve got the reply after her harmless edit' });
    await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
    expect(acceptedTextsTo(EVE.id).slice(2)).toEqual(['Mock reply to: спасибо']);
    expect(await storedInMongo('хороший')).toEqual([]);
  });
});
