/**
 * The person's journey through the real apps: Telegram emulator → ingress → BullMQ → two worker
 * processes → MongoDB, with the LLM gateway against the mock Gemini API. Onboarding with consent,
 * a model reply, PHQ-9 with inline buttons, /sos and a language switch.
 */
import { Redis } from 'ioredis';
import { MongoClient } from 'mongodb';
import { INSTRUMENT_NOTICE, PHQ9 } from '@inner-talk/assessments';
import { fill, TEXTS } from '@inner-talk/conversation';
import { isClassifierRequest, startMockGemini, startTelegramEmulator, type BotMessage, type MockLlmServer, type TelegramEmulator, type TelegramUserClient } from '@inner-talk/mocks';
import { ConsentStore, ConversationStore } from '@inner-talk/storage';
import { serviceUrls, uniquePrefix, waitFor } from '@inner-talk/testkit';
import { parseKeyring, Vault } from '@inner-talk/vault';
import { grantConsents, startLocalCluster, type LocalCluster } from './index';

const TOKEN = '271828:journey-e2e-token';
const WAIT_MS = 20_000;

interface Harness {
  cluster: LocalCluster;
  emulator: TelegramEmulator;
  gemini: MockLlmServer;
  prefix: string;
  mongo: MongoClient;
}

let h: Harness | undefined;

beforeAll(async () => {
  const { redisUrl, mongoUrl } = serviceUrls();
  const prefix = uniquePrefix('journey');
  const emulator = await startTelegramEmulator();
  const gemini = await startMockGemini({ config: { latency: { kind: 'fixed', ms: 50 } } });
  const mongo = new MongoClient(mongoUrl);
  const cluster = await startLocalCluster({
    workers: 2,
    redisUrl,
    mongoUrl,
    prefix,
    mongoDb: prefix,
    telegram: { token: TOKEN, apiRoot: emulator.apiRoot },
    ingress: { mode: 'polling' },
    llm: [{ name: 'gemini', api: 'gemini', keys: ['journey-gemini-key'], baseUrl: gemini.sdkBaseUrl }],
    // Low enough for the rate-limit step below, high enough for every other person here.
    extraEnv: { USER_MESSAGES_PER_MINUTE: '4' },
  });
  h = { cluster, emulator, gemini, prefix, mongo };
});

afterAll(async () => {
  if (!h) return;
  await h.cluster.stop();
  await h.emulator.close();
  await h.gemini.close();
  await h.mongo.db(h.prefix).dropDatabase().catch(() => undefined);
  await h.mongo.close();
  const redis = new Redis(serviceUrls().redisUrl);
  const keys = await redis.keys(`${h.prefix}:*`);
  if (keys.length) await redis.del(...keys);
  await redis.quit();
});

/** Every stored document, in every collection, whose JSON contains `needle`, as `collection: json`. */
async function stored(needle: string): Promise<string[]> {
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

/** Callback query ids of every button press, to check each was answered. */
const pressed: string[] = [];

async function pressedUnanswered(user: TelegramUserClient): Promise<string[]> {
  const answered = new Set((await user.apiCalls('answerCallbackQuery')).filter((c) => c.status === 200).map((c) => String(c.payload.callback_query_id)));
  return pressed.filter((id) => !answered.has(id));
}

/** Presses the button `index` (row by row) of `message` and waits for `replies` new bot messages. */
async function press(user: TelegramUserClient, message: BotMessage | undefined, index: number, replies = 1): Promise<BotMessage[]> {
  const data = message?.buttons[index]?.callbackData;
  if (data === undefined) throw new Error(`message ${message?.messageId} has no button ${index}: ${JSON.stringify(message?.buttons)}`);
  const { callbackQueryId } = await user.pressButton(data, { messageId: message!.messageId });
  pressed.push(callbackQueryId!);
  return user.waitForBotMessages(replies, WAIT_MS);
}

const modelReplies = () => h!.gemini.requests().filter((r) => !isClassifierRequest(r));

describe('the person\'s journey through two workers', () => {
  it('onboards with consent (nothing stored before it), then talks with the model', async () => {
    const user = h!.emulator.client(TOKEN, { userId: 7001, languageCode: 'en' });

    await user.sendCommand('/start');
    const [languages] = await user.waitForBotMessages(1, WAIT_MS);
    expect(languages?.text).toBe(TEXTS.en.chooseLanguage);
    expect(languages?.buttons.map((b) => b.callbackData)).toEqual(['l:ru', 'l:en']);

    const [adult] = await press(user, languages, 1);
    expect(adult?.text).toBe(`${TEXTS.en.disclosure}\n\n${TEXTS.en.askAdult}`);
    // The pressed message lost its buttons; the press was answered.
    expect((await user.botMessages()).find((m) => m.messageId === languages!.messageId)?.buttons).toEqual([]);

    await user.sendText('my secret words before consent');
    const reminder = await user.waitForBotMessages(2, WAIT_MS);
    expect(reminder.map((m) => m.text)).toEqual([TEXTS.en.finishOnboardingFirst, adult?.text]);
    expect(h!.gemini.stats().requests).toBe(0);
    expect((await stored('tg:7001')).map((d) => d.split(':')[0])).toEqual(['consents']);
    expect(await stored('secret')).toEqual([]);

    const [consent] = await press(user, reminder[1], 0);
    // The consent names who receives the messages: this cluster's chain is Gemini alone.
    expect(consent?.text).toBe(fill(TEXTS.en.askConsent, { processors: 'Google (Gemini API)' }));
    const [ready] = await press(user, consent, 0);
    expect(ready?.text).toBe(TEXTS.en.consentGiven);

    await user.sendText('I feel anxious before my exam');
    const [answer] = await user.waitForBotMessages(1, WAIT_MS);
    expect(answer?.text).toBe('Mock reply to: I feel anxious before my exam');
    // The classifier ran first (and said NONE), then the model answered.
    expect(h!.gemini.requests().map(isClassifierRequest)).toEqual([true, false]);

    expect(pressed).toHaveLength(3);
    expect(await pressedUnanswered(user)).toEqual([]);
  });

  it('runs PHQ-9 with inline buttons through a worker restart: exact band, the notice, stale buttons answered harmlessly', async () => {
    const user = h!.emulator.client(TOKEN, { userId: 7002, languageCode: 'ru' });
    await new ConsentStore(h!.mongo.db(h!.prefix)).grantConsent('tg:7002', 'ru', new Date());

    await user.sendCommand('/test');
    const [menu] = await user.waitForBotMessages(1, WAIT_MS);
    expect(menu?.text).toBe(TEXTS.ru.testMenu);
    const [intro, first] = await press(user, menu, 0, 2);
    expect(intro?.text).toContain(PHQ9.stem.ru);
    expect(first?.text).toBe(fill(TEXTS.ru.testQuestion, { title: PHQ9.title.ru, number: 1, count: 9, item: PHQ9.items.ru[0]! }));

    // 3+3+2+2+1+1+3+0+0 = 15: moderately severe, item 9 at 0.
    let question = first;
    const answers = [3, 3, 2, 2, 1, 1, 3, 0, 0];
    for (const [i, value] of answers.entries()) {
      if (i === 4) {
        // Halfway, a worker is restarted: progress lives in MongoDB, so the run goes on.
        expect(await h!.cluster.workers[0]!.stop('SIGTERM', 20_000)).toBe(0);
        await h!.cluster.addWorker();
      }
      const [next] = await press(user, question, value);
      if (i < answers.length - 1) expect(next?.text).toContain(PHQ9.items.ru[i + 1]!);
      question = next;
    }
    const result = question!.text;
    expect(result).toContain(fill(TEXTS.ru.testResult, { title: PHQ9.title.ru, total: 15, max: 27, band: TEXTS.ru.bandModeratelySevere }));
    expect(result).toContain(TEXTS.ru.suggestProfessional);
    expect(result).toContain(INSTRUMENT_NOTICE);
    expect(modelReplies().length).toBe(1); // only the first test's reply: no model call in a self-check

    // The first question's button again (its keyboard is gone, but an old client can still send it).
    const { callbackQueryId } = await user.pressButton(first!.buttons[0]!.callbackData!, { messageId: first!.messageId });
    pressed.push(callbackQueryId!);
    const [stale] = await user.waitForBotMessages(1, WAIT_MS);
    expect(stale?.text).toBe(TEXTS.ru.staleChoice);
    expect(pressed).toHaveLength(3 + 1 + 9 + 1);
    expect(await pressedUnanswered(user)).toEqual([]);

    const db = h!.mongo.db(h!.prefix);
    const run = await db.collection('assessments').findOne({ userId: 'tg:7002', status: 'completed' });
    expect(run).toMatchObject({ questionnaire: 'phq9', index: 9 });
    expect(JSON.stringify(run)).not.toContain('moderately');
  });

  it('answers PHQ-9 item 9 above 0 with the crisis reply and hotlines, whatever the total', async () => {
    const user = h!.emulator.client(TOKEN, { userId: 7003, languageCode: 'en' });
    await new ConsentStore(h!.mongo.db(h!.prefix)).grantConsent('tg:7003', 'en', new Date());
    await user.sendCommand('/test');
    const [menu] = await user.waitForBotMessages(1, WAIT_MS);
    let [, question] = await press(user, menu, 0, 2);
    for (let i = 0; i < 8; i++) [question] = await press(user, question, 0);
    const [crisis, result] = await press(user, question, 2, 2);
    expect(crisis?.text).toContain(TEXTS.en.crisisItem9);
    expect(crisis?.text).toContain('988');
    expect(result?.text).toContain(fill(TEXTS.en.testResult, { title: PHQ9.title.en, total: 2, max: 27, band: TEXTS.en.bandMinimal }));
    // Stored sealed (level and sources); opened with the cluster's key, it is a high event from item 9.
    const db = h!.mongo.db(h!.prefix);
    expect(JSON.stringify(await db.collection('risk_events').find({ userId: 'tg:7003' }).toArray())).not.toContain('phq9_item9');
    const events = await new ConversationStore(db, { vault: new Vault(parseKeyring(h!.cluster.keyring)) }).riskEventsOf('tg:7003');
    expect(events).toEqual([expect.objectContaining({ level: 'high', sources: ['phq9_item9'] })]);
  });

  it('answers /sos, and a language switch changes the language of later replies', async () => {
    const user = h!.emulator.client(TOKEN, { userId: 7001, languageCode: 'en' });
    await user.botMessages().then((all) => user.waitForBotMessages(all.length, WAIT_MS));

    await user.sendCommand('/sos');
    const [sos] = await user.waitForBotMessages(1, WAIT_MS);
    expect(sos?.text).toContain(TEXTS.en.sos);
    expect(sos?.text).toContain('988');

    await user.sendCommand('/language');
    const [picker] = await user.waitForBotMessages(1, WAIT_MS);
    const [switched] = await press(user, picker, 0);
    expect(switched?.text).toBe(TEXTS.ru.languageSet);
    await user.sendCommand('/help');
    const [help] = await user.waitForBotMessages(1, WAIT_MS);
    expect(help?.text).toBe(TEXTS.ru.help);
    await user.sendCommand('/sos');
    const [sosRu] = await user.waitForBotMessages(1, WAIT_MS);
    expect(sosRu?.text).toContain(TEXTS.ru.sos);
    expect(sosRu?.text).toContain('8-800-2000-122');
  });

  it('sessions: /end shows a summary and keeps it, /history lists it with a delete button that works', async () => {
    const user = h!.emulator.client(TOKEN, { userId: 7004, languageCode: 'en' });
    await grantConsents(serviceUrls().mongoUrl, h!.prefix, 'en', [7004]);
    await user.sendText('I argued with my sister today');
    await user.waitForBotMessages(1, WAIT_MS);
    await user.sendCommand('/end');
    const [summary] = await user.waitForBotMessages(1, WAIT_MS);
    expect(summary?.text).toContain(TEXTS.en.sessionSummaryIntro);
    expect(summary?.text).toContain('Person: I argued with my sister today');
    // Kept sealed: the session document holds no words of it.
    expect(await stored('sister')).toEqual([]);
    expect((await stored('tg:7004')).map((d) => d.split(':')[0]).sort()).toEqual(['consents', 'messages', 'messages', 'session_heads', 'sessions', 'users']);

    await user.sendCommand('/history');
    const [intro, entry] = await user.waitForBotMessages(2, WAIT_MS);
    expect(intro?.text).toBe(fill(TEXTS.en.historyIntro, { count: 1 }));
    expect(entry?.text).toContain('Person: I argued with my sister today');
    const [deleted] = await press(user, entry, 0);
    expect(deleted?.text).toBe(TEXTS.en.summaryDeleted);
    await user.sendCommand('/history');
    expect((await user.waitForBotMessages(1, WAIT_MS))[0]?.text).toBe(TEXTS.en.historyEmpty);
  });

  it('a person over the message rate gets a friendly note instead of a reply', async () => {
    const user = h!.emulator.client(TOKEN, { userId: 7005, languageCode: 'en' });
    await grantConsents(serviceUrls().mongoUrl, h!.prefix, 'en', [7005]);
    const answers: string[] = [];
    // The limit counts messages per calendar minute of writing: begin early in a minute, so all five
    // (a few seconds together) fall in the same one.
    const intoMinute = Date.now() % 60_000;
    if (intoMinute > 40_000) await new Promise((resolve) => setTimeout(resolve, 60_000 - intoMinute + 100));
    // One at a time, each after its answer (rapid messages would be merged into one turn).
    for (let i = 1; i <= 5; i++) {
      await user.sendText(`message ${i}`);
      answers.push((await user.waitForBotMessages(1, WAIT_MS))[0]?.text ?? '');
    }
    expect(answers.slice(0, 4)).toEqual([1, 2, 3, 4].map((i) => `Mock reply to: message ${i}`));
    expect(answers[4]).toBe(TEXTS.en.rateLimited);
  });

  it('/export sends every stored record as a JSON file; /forget deletes all of it from MongoDB and Redis after confirmation', async () => {
    const user = h!.emulator.client(TOKEN, { userId: 7006, languageCode: 'en' });
    await grantConsents(serviceUrls().mongoUrl, h!.prefix, 'en', [7006]);
    await user.sendText('a private thought about qwzx');
    await user.waitForBotMessages(1, WAIT_MS);

    await user.sendCommand('/export');
    await waitFor(async () => (await user.apiCalls('sendDocument')).length === 1, { timeoutMs: WAIT_MS, message: 'the export file' });
    const [upload] = await user.apiCalls('sendDocument');
    const file = upload!.payload.document as { fileName: string; content: string };
    expect(upload!.payload.caption).toBe(TEXTS.en.exportReady);
    expect(file.fileName).toMatch(/^inner-talk-data-\d{4}-\d{2}-\d{2}\.json$/);
    const data = JSON.parse(file.content) as { userId: string; collections: Record<string, Array<Record<string, unknown>>> };
    expect(data.userId).toBe('tg:7006');
    expect(data.collections.messages?.map((m) => m.text)).toEqual(['a private thought about qwzx', 'Mock reply to: a private thought about qwzx']);

    await user.sendCommand('/forget');
    const [ask] = await user.waitForBotMessages(1, WAIT_MS);
    expect(ask?.text).toBe(TEXTS.en.forgetConfirm);
    const [done] = await press(user, ask, 0);
    expect(done?.text).toBe(TEXTS.en.forgetDone);

    // Nothing of the person is left: no document but the audit log's ids, no Redis key or value.
    expect((await stored('7006')).map((d) => d.split(':')[0])).toEqual(['audit_log', 'audit_log']);
    expect(await stored('qwzx')).toEqual([]);
    const redis = new Redis(serviceUrls().redisUrl);
    try {
      for (const key of await redis.keys(`${h!.prefix}:*`)) {
        expect(key).not.toContain('7006');
        const type = await redis.type(key);
        const value = type === 'string' ? await redis.get(key) : type === 'list' ? (await redis.lrange(key, 0, -1)).join() : type === 'hash' ? JSON.stringify(await redis.hgetall(key)) : type === 'zset' ? (await redis.zrange(key, '0', '-1')).join() : '';
        expect({ key, leaks: (value ?? '').includes('qwzx') || (value ?? '').includes('"id":7006') }).toEqual({ key, leaks: false });
      }
    } finally {
      await redis.quit();
    }
    // Talking again starts from the beginning.
    await user.sendText('hello again');
    expect((await user.waitForBotMessages(1, WAIT_MS))[0]?.text).toBe(TEXTS.en.chooseLanguage);
  });
});
