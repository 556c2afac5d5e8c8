/**
 * Evidence that disguised and everyday ways of saying one wants to die are answered with the crisis
 * reply through the real apps, where the offline phrase layer is the only reader: before consent,
 * while a person is over their message rate, and when the model classifier says NONE (the mock
 * classifier answers NONE to everything here). Telegram is the strict Bot API stand-in (real-shaped
 * webhook deliveries with the secret header), behind it the ingress and one worker.
 *
 * Covered: Latin/Cyrillic homoglyphs and zero-width characters, letters spaced apart, Russian free
 * word order, slang, a statement split across two rapid messages (merged into one turn), and an
 * alarming-looking idiom that must get an ordinary answer.
 */
import { TEXTS } from '@inner-talk/conversation';
import { isClassifierRequest, startMockGemini, startStrictBotApi, type MockLlmServer, type StrictBotApi } from '@inner-talk/mocks';
import { classifyByPhrases } from '@inner-talk/safety';
import { privateMessageUpdate, serviceUrls, uniquePrefix, waitFor, type TelegramPerson } from '@inner-talk/testkit';
import { clearClusterData, grantConsents, startLocalCluster, type LocalCluster } from './index';

const TOKEN = '271828:crisis-phrasings-e2e-token';
const SECRET = 'crisis_phrasings_e2e_webhook_secret_0123456789';
const WAIT_MS = 20_000;
const COALESCE_MS = 1_500;

const person = (n: number, languageCode: 'en' | 'ru'): TelegramPerson => ({ id: 860_000 + n, firstName: `P${n}`, languageCode });
const NEW_EN = person(1, 'en');
const SPLIT_EN = person(2, 'en');
const SPLIT_RU = person(3, 'ru');
const ORDER_RU = person(4, 'ru');
const LIMITED_RU = person(5, 'ru');
const IDIOM_EN = person(6, 'en');
const SPACED_EN = person(7, 'en');

interface Harness {
  standIn: StrictBotApi;
  gemini: MockLlmServer;
  cluster?: LocalCluster;
  prefix: string;
}

let h: Harness | undefined;
let nextUpdateId = 9_300_000;

beforeAll(async () => {
  const { redisUrl, mongoUrl } = serviceUrls();
  const prefix = uniquePrefix('crisis-phrasings');
  h = {
    prefix,
    standIn: await startStrictBotApi({ token: TOKEN, bot: { id: 700_000_003, username: 'inner_talk_phrasings_bot', firstName: 'Inner Talk' } }),
    gemini: await startMockGemini({ config: { latency: { kind: 'fixed', ms: 20 } }, requestLogSize: 1_000 }),
  };
  for (const p of [NEW_EN, SPLIT_EN, SPLIT_RU, ORDER_RU, LIMITED_RU, IDIOM_EN, SPACED_EN]) h.standIn.addPrivateChat(p.id);
  await grantConsents(mongoUrl, prefix, 'en', [SPLIT_EN.id, IDIOM_EN.id, SPACED_EN.id]);
  await grantConsents(mongoUrl, prefix, 'ru', [SPLIT_RU.id, ORDER_RU.id, LIMITED_RU.id]);
  h.cluster = await startLocalCluster({
    workers: 1,
    redisUrl,
    mongoUrl,
    prefix,
    mongoDb: prefix,
    telegram: { token: TOKEN, apiRoot: h.standIn.apiRoot },
    ingress: { mode: 'webhook', secret: SECRET, register: true },
    llm: [{ name: 'gemini', api: 'gemini', keys: ['crisis-phrasings-gemini-key'], baseUrl: h.gemini.sdkBaseUrl }],
    workerConcurrency: 4,
    extraEnv: { COALESCE_WINDOW_MS: String(COALESCE_MS), USER_MESSAGES_PER_MINUTE: '2' },
  });
  await waitFor(() => h!.standIn.webhook(), { timeoutMs: WAIT_MS, message: 'the ingress registered its webhook' });
}, 60_000);

afterAll(async () => {
  if (!h) return;
  await h.cluster?.stop();
  await h.standIn.close();
  await h.gemini.close();
  const { redisUrl, mongoUrl } = serviceUrls();
  await clearClusterData(redisUrl, mongoUrl, h.prefix, h.prefix);
}, 60_000);

async function say(p: TelegramPerson, text: string): Promise<void> {
  expect(await h!.standIn.deliver(privateMessageUpdate(nextUpdateId++, p, text))).toEqual({ delivered: true, status: 200 });
}

const textsTo = (p: TelegramPerson) =>
  h!.standIn
    .callsOf('sendMessage')
    .filter((c) => c.ok && Number(c.params.chat_id) === p.id)
    .map((c) => String(c.params.text));

async function repliesTo(p: TelegramPerson, count: number): Promise<string[]> {
  return waitFor(() => (textsTo(p).length >= count ? textsTo(p) : null), { timeoutMs: WAIT_MS, message: `${count} replies to ${p.id}` });
}

it('answers a disguised statement before consent with the crisis reply, then onboarding (homoglyphs and zero-width characters)', async () => {
  // Cyrillic "і" and "у" inside Latin words, a zero-width space inside "myself".
  const text = 'I want to k\u0456ll m\u0443\u200bself';
  await say(NEW_EN, text);
  const [crisis, next] = await repliesTo(NEW_EN, 2);
  expect(crisis).toContain(TEXTS.en.crisisHigh);
  expect(crisis).toContain('988');
  expect(next).toBe(TEXTS.en.chooseLanguage);
  // Nothing before consent reaches a model.
  expect(h!.gemini.requests().filter((r) => r.messages.some((m) => m.text.includes('elf')))).toEqual([]);
});

it.each([
  ['English', SPLIT_EN, 'i dont want to', 'wake up ever again', TEXTS.en.crisisHigh],
  ['Russian', SPLIT_RU, 'я больше не хочу', 'просыпаться никогда', TEXTS.ru.crisisHigh],
])('reads a statement split across two rapid messages together (%s)', async (_, p, first, second, intro) => {
  // Neither half says it alone: only the two together do.
  expect(classifyByPhrases(first).level).toBe('none');
  expect(classifyByPhrases(second).level).toBe('none');
  await say(p, first);
  await say(p, second);
  // Merged into one turn when the second was already waiting (one crisis reply), or two turns (an
  // ordinary answer to the first half, then the crisis reply): either way the statement is answered.
  const replies = await waitFor(() => (textsTo(p).some((t) => t.includes(intro)) ? textsTo(p) : null), { timeoutMs: WAIT_MS, message: 'the crisis reply' });
  expect(replies.at(-1)).toContain(intro);
  await new Promise((resolve) => setTimeout(resolve, COALESCE_MS));
  expect(textsTo(p).length).toBeLessThanOrEqual(2);
  expect(textsTo(p).filter((t) => t.includes(intro))).toHaveLength(1);
});

it('answers Russian in free word order even when the model classifier says NONE', async () => {
  const before = h!.gemini.requests().filter(isClassifierRequest).length;
  await say(ORDER_RU, 'жить я больше не хочу');
  const [reply] = await repliesTo(ORDER_RU, 1);
  expect(reply).toContain(TEXTS.ru.crisisHigh);
  expect(reply).toContain('8-800-2000-122');
  // A high phrase match does not wait for the classifier.
  expect(h!.gemini.requests().filter(isClassifierRequest).length).toBe(before);
});

it('answers slang with the crisis reply while the person is over their message rate', async () => {
  // The limit counts messages per calendar minute of writing: begin early in a minute, so all four
  // (a few seconds together) fall in the same one.
  const intoMinute = Date.now() % 60_000;
  if (intoMinute > 40_000) await new Promise((resolve) => setTimeout(resolve, 60_000 - intoMinute + 100));
  await say(LIMITED_RU, 'привет');
  await repliesTo(LIMITED_RU, 1);
  await say(LIMITED_RU, 'как дела');
  await repliesTo(LIMITED_RU, 2);
  await say(LIMITED_RU, 'ну его всё, выпилюсь сегодня');
  const replies = await repliesTo(LIMITED_RU, 3);
  expect(replies[2]).toContain(TEXTS.ru.crisisHigh);
  await say(LIMITED_RU, 'ладно');
  expect((await repliesTo(LIMITED_RU, 4))[3]).toBe(TEXTS.ru.rateLimited);
});

it('reads letters spaced apart, and gives an alarming-looking idiom an ordinary answer', async () => {
  await say(SPACED_EN, 's u i c i d e is all i think about');
  expect((await repliesTo(SPACED_EN, 1))[0]).toContain(TEXTS.en.crisisHigh);
  await say(IDIOM_EN, "I'm dying to see the new movie with my sister");
  const [reply] = await repliesTo(IDIOM_EN, 1);
  expect(reply).toContain('Mock reply to:');
  expect(reply).not.toContain(TEXTS.en.crisisHigh);
});
