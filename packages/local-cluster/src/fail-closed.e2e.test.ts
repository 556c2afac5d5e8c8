/**
 * Evidence that crisis handling fails closed through the real apps: the strict Bot API stand-in as
 * Telegram (updates reach the ingress's registered webhook with the secret header), the ingress in
 * webhook mode, two worker processes, Redis, MongoDB, and the mock Gemini API as the only model.
 *
 * - The crisis classifier fails (HTTP 500) or hangs: the person gets the crisis contacts with an
 *   honest note within the classifier's budget + 1 s, once, and the real answer once the model is
 *   back — or the crisis reply, when the classifier then finds risk.
 * - A reply the provider refuses: the fixed supportive text with the contacts.
 * - MongoDB unreachable (the workers' MONGO_URL points at a port nobody listens on): the workers
 *   start, /sos and a crisis text get the crisis reply; once the database is reachable the crisis
 *   text's risk event is stored and its reply is not sent again.
 */
import net from 'node:net';
import { MongoClient } from 'mongodb';
import { TEXTS } from '@inner-talk/conversation';
import { ConversationStore } from '@inner-talk/storage';
import { classifyByPhrases } from '@inner-talk/safety';
import { parseKeyring, Vault } from '@inner-talk/vault';
import { isClassifierRequest, RISK_MARKERS, startMockGemini, startStrictBotApi, type MockLlmServer, type StrictBotApi } from '@inner-talk/mocks';
import { freePort, privateMessageUpdate, serviceUrls, uniquePrefix, waitFor, type TelegramPerson } from '@inner-talk/testkit';
import { clearClusterData, grantConsents, startLocalCluster, type LocalCluster } from './index';

const TOKEN = '271828:fail-closed-e2e-token';
const SECRET = 'fail_closed_e2e_webhook_secret_0123456789';
const CLASSIFIER_TIMEOUT_MS = 1_500;
const WAIT_MS = 30_000;
/** A message that should not come would show up within this. */
const SETTLE_MS = 2_000;

interface Harness {
  standIn: StrictBotApi;
  gemini: MockLlmServer;
  cluster?: LocalCluster;
  prefix: string;
}

let nextUpdateId = 9_300_000;
const updateId = () => nextUpdateId++;

async function startHarness(name: string, people: readonly TelegramPerson[], mongoUrl: string): Promise<Harness> {
  const { redisUrl } = serviceUrls();
  const prefix = uniquePrefix(name);
  const h: Harness = {
    prefix,
    standIn: await startStrictBotApi({ token: TOKEN, bot: { id: 700_000_002, username: 'inner_talk_test_bot', firstName: 'Inner Talk' } }),
    gemini: await startMockGemini({ requestLogSize: 1_000 }),
  };
  for (const person of people) h.standIn.addPrivateChat(person.id);
  h.cluster = await startLocalCluster({
    workers: 2,
    redisUrl,
    mongoUrl,
    prefix,
    mongoDb: prefix,
    telegram: { token: TOKEN, apiRoot: h.standIn.apiRoot },
    ingress: { mode: 'webhook', secret: SECRET, register: true },
    llm: [{ name: 'gemini', api: 'gemini', keys: ['fail-closed-gemini-key'], baseUrl: h.gemini.sdkBaseUrl }],
    workerConcurrency: 4,
    extraEnv: {
      COALESCE_WINDOW_MS: '0',
      SAFETY_CLASSIFIER_TIMEOUT_MS: String(CLASSIFIER_TIMEOUT_MS),
      // The breaker stays closed however often the classifier fails here: what is under test is
      // what the person gets, not when the breaker opens.
      LLM_BREAKER_FAILURES: '1000',
      LLM_BREAKER_ERROR_RATE: '0',
    },
  });
  await waitFor(() => h.standIn.webhook(), { timeoutMs: WAIT_MS, message: 'the ingress registered its webhook' });
  return h;
}

async function stopHarness(h: Harness | undefined): Promise<void> {
  if (!h) return;
  await h.cluster?.stop();
  await h.standIn.close();
  await h.gemini.close();
  const { redisUrl, mongoUrl } = serviceUrls();
  await clearClusterData(redisUrl, mongoUrl, h.prefix, h.prefix);
}

/** Hands a text to the bot as Telegram would; resolves with the moment it was handed over. */
async function say(h: Harness, person: TelegramPerson, text: string): Promise<number> {
  const at = Date.now();
  expect(await h.standIn.deliver(privateMessageUpdate(updateId(), person, text))).toEqual({ delivered: true, status: 200 });
  return at;
}

const sentTo = (h: Harness, person: TelegramPerson) => h.standIn.callsOf('sendMessage').filter((c) => c.ok && Number(c.params.chat_id) === person.id);
const textsTo = (h: Harness, person: TelegramPerson) => sentTo(h, person).map((c) => String(c.params.text));

/** The first message to `person` that contains `fragment`, once it came. */
async function arrival(h: Harness, person: TelegramPerson, fragment: string): Promise<{ text: string; at: number }> {
  const call = await waitFor(() => sentTo(h, person).find((c) => String(c.params.text).includes(fragment)), {
    timeoutMs: WAIT_MS,
    message: `a message containing "${fragment}" to ${person.id}`,
  });
  return { text: String(call.params.text), at: call.at };
}

const classifierCalls = (h: Harness, text: string) => h.gemini.requests().filter((r) => isClassifierRequest(r) && r.messages.at(-1)?.text === text).length;
const replyCalls = (h: Harness, text: string) => h.gemini.requests().filter((r) => !isClassifierRequest(r) && r.messages.at(-1)?.text === text).length;
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

describe('the crisis classifier cannot answer', () => {
  const ANN: TelegramPerson = { id: 860_001, firstName: 'Ann', languageCode: 'en' };
  const BOB: TelegramPerson = { id: 860_002, firstName: 'Bob', languageCode: 'en' };
  const CAROL: TelegramPerson = { id: 860_003, firstName: 'Carol', languageCode: 'en' };
  const DAN: TelegramPerson = { id: 860_004, firstName: 'Dan', languageCode: 'ru' };
  let h: Harness | undefined;

  beforeAll(async () => {
    const people = [ANN, BOB, CAROL, DAN];
    h = await startHarness('fail-closed', people, serviceUrls().mongoUrl);
    await grantConsents(serviceUrls().mongoUrl, h.prefix, 'en', [ANN.id, BOB.id, CAROL.id]);
    await grantConsents(serviceUrls().mongoUrl, h.prefix, 'ru', [DAN.id]);
  }, 90_000);
  afterAll(() => stopHarness(h), 60_000);
  afterEach(() => h?.gemini.clearFaults());

  /**
   * The classifier fails as `fault` says while the person writes: the contacts note comes within
   * the budget + 1 s, the message is asked again (still failing, no second note), and once the mock
   * recovers the real reply follows.
   */
  async function expectContactsThenReply(person: TelegramPerson, text: string, fault: 'error' | 'hang'): Promise<void> {
    h!.gemini.configure(fault === 'error' ? { down: true, downMode: 'error', errorStatus: 500 } : { down: true, downMode: 'hang' });
    const saidAt = await say(h!, person, text);
    const note = await arrival(h!, person, TEXTS.en.safetyUnchecked);
    expect(note.at - saidAt).toBeLessThan(CLASSIFIER_TIMEOUT_MS + 1_000);
    expect(note.text).toContain('988');
    expect(note.text).toContain(TEXTS.en.safetyUncheckedOutro);
    // The turn is asked again while the classifier still fails: no second note, no "I need a moment".
    await waitFor(() => classifierCalls(h!, text) >= 2, { timeoutMs: WAIT_MS, message: 'the message classified again' });
    h!.gemini.clearFaults();
    await arrival(h!, person, `Mock reply to: ${text}`);
    await sleep(SETTLE_MS);
    expect(textsTo(h!, person)).toEqual([note.text, `Mock reply to: ${text}`]);
    expect(replyCalls(h!, text)).toBe(1);
  }

  it('HTTP 500 from the classifier: the contacts with an honest note at once, the real reply once the model is back', async () => {
    await expectContactsThenReply(ANN, 'I had a long day at work', 'error');
  }, 60_000);

  it('a classifier that never answers: the same, within its budget + 1 s', async () => {
    await expectContactsThenReply(BOB, 'The weather is grey again', 'hang');
  }, 60_000);

  it('the classifier finds risk when the message is asked again: the crisis reply, never a model reply', async () => {
    const text = `Everything feels quiet now, I know what I will do ${RISK_MARKERS.high}`;
    // Only the model sees it: the phrase list must not, or no classifier would be asked.
    expect(classifyByPhrases(text).level).toBe('none');
    h!.gemini.script({ status: 500 });
    const saidAt = await say(h!, CAROL, text);
    const note = await arrival(h!, CAROL, TEXTS.en.safetyUnchecked);
    expect(note.at - saidAt).toBeLessThan(CLASSIFIER_TIMEOUT_MS + 1_000);
    const crisis = await arrival(h!, CAROL, TEXTS.en.crisisHigh);
    await sleep(SETTLE_MS);
    expect(textsTo(h!, CAROL)).toEqual([note.text, crisis.text]);
    expect(replyCalls(h!, text)).toBe(0);
  }, 60_000);

  it('a reply the provider refuses: the fixed supportive text with the contacts, not "something went wrong"', async () => {
    const text = 'Tell me about the darkest thing you know';
    // The classifier answers as usual; the reply is blocked the way Gemini blocks a prompt.
    h!.gemini.script([{}, { status: 200, body: { promptFeedback: { blockReason: 'SAFETY' }, usageMetadata: { promptTokenCount: 9 } } }]);
    await say(h!, DAN, text);
    const supportive = await arrival(h!, DAN, TEXTS.ru.replyRefused);
    expect(supportive.text).toContain('8-800-2000-122');
    await sleep(SETTLE_MS);
    expect(textsTo(h!, DAN)).toEqual([supportive.text]);
  }, 60_000);
});

/** A TCP door to MongoDB that stays shut until opened: the workers' database "comes back" when it opens. */
class MongoDoor {
  private server: net.Server | null = null;
  private readonly sockets = new Set<net.Socket>();

  constructor(
    readonly port: number,
    private readonly target: { host: string; port: number },
  ) {}

  async open(): Promise<void> {
    this.server = net.createServer((client) => {
      const upstream = net.connect(this.target.port, this.target.host);
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.on('error', () => undefined);
        s.on('close', () => this.sockets.delete(s));
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve) => this.server!.listen(this.port, '127.0.0.1', resolve));
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    if (this.server) await new Promise<void>((resolve) => this.server!.close(() => resolve()));
  }
}

describe('MongoDB cannot be reached', () => {
  const EVE: TelegramPerson = { id: 860_101, firstName: 'Eve', languageCode: 'en' };
  const FRANK: TelegramPerson = { id: 860_102, firstName: 'Frank', languageCode: 'en' };
  let h: Harness | undefined;
  let door: MongoDoor | undefined;
  const mongo = new MongoClient(serviceUrls().mongoUrl);

  beforeAll(async () => {
    const real = new URL(serviceUrls().mongoUrl);
    door = new MongoDoor(await freePort(), { host: real.hostname, port: Number(real.port || 27017) });
    const shut = new URL(serviceUrls().mongoUrl);
    shut.host = `127.0.0.1:${door.port}`;
    // The workers start while nothing listens behind the door.
    h = await startHarness('fail-closed-mongo', [EVE, FRANK], shut.toString());
    await grantConsents(serviceUrls().mongoUrl, h.prefix, 'en', [EVE.id]);
  }, 90_000);
  afterAll(async () => {
    await stopHarness(h);
    await door?.close();
    await mongo.close();
  }, 60_000);

  it('workers start; /sos and a crisis text get the crisis reply at once; the risk event is stored once the database is back', async () => {
    expect(h!.cluster!.workers.map((w) => w.exitCode())).toEqual([null, null]);
    const sosAt = await say(h!, FRANK, '/sos');
    const sos = await arrival(h!, FRANK, TEXTS.en.sos);
    expect(sos.at - sosAt).toBeLessThan(5_000);

    const text = 'I want to kill myself';
    const saidAt = await say(h!, EVE, text);
    const crisis = await arrival(h!, EVE, TEXTS.en.crisisHigh);
    expect(crisis.at - saidAt).toBeLessThan(5_000);
    expect(crisis.text).toContain('988');
    expect(h!.gemini.stats().requests).toBe(0);

    await door!.open();
    const events = mongo.db(h!.prefix).collection('risk_events');
    await waitFor(async () => (await events.countDocuments({ userId: `tg:${EVE.id}` })) > 0 || null, { timeoutMs: 60_000, message: 'the risk event stored' });
    // Level and sources are sealed at rest: read them as the workers do, with the cluster's keyring.
    const opened = await new ConversationStore(mongo.db(h!.prefix), { vault: new Vault(parseKeyring(h!.cluster!.keyring)) }).riskEventsOf(`tg:${EVE.id}`);
    expect(opened.map((e) => ({ level: e.level, sources: e.sources }))).toEqual([{ level: 'high', sources: ['phrases'] }]);
    await sleep(SETTLE_MS);
    // The re-run's crisis reply was the one already sent: it is not sent again.
    expect(textsTo(h!, EVE)).toEqual([crisis.text]);
    expect(textsTo(h!, FRANK)).toEqual([sos.text]);
  }, 120_000);
});
