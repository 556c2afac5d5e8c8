import { OpenAIChatProvider, ProviderError } from '@inner-talk/llm';
import { startMockOpenAI, type MockLlmServer } from '@inner-talk/mocks';
import { connectMongo, ConversationStore, type MongoConnection } from '@inner-talk/storage';
import { serviceUrls, uniquePrefix } from '@inner-talk/testkit';
import { CrisisDetector } from '@inner-talk/safety';
import { Conversation, SYSTEM_PROMPT, TEXTS } from './index';

describe('Conversation with a real store and the OpenAI adapter against the mock API', () => {
  let mongo: MongoConnection;
  let store: ConversationStore;
  let llm: MockLlmServer;
  let conversation: Conversation;

  beforeAll(async () => {
    mongo = await connectMongo(serviceUrls().mongoUrl, uniquePrefix('conv').replace(/[^A-Za-z0-9_]/g, '_'));
    store = new ConversationStore(mongo.db);
    llm = await startMockOpenAI();
    const model = new OpenAIChatProvider({ apiKey: 'test-key', model: 'gpt-test', baseURL: llm.sdkBaseUrl });
    conversation = new Conversation({ model, memory: store, llmTimeoutMs: 5000 });
  });
  beforeEach(() => llm.reset());
  afterAll(async () => {
    await llm.close();
    await mongo.db.dropDatabase();
    await mongo.close();
  });

  it('greets in the person\'s language without calling the model', async () => {
    expect(await conversation.handle({ kind: 'start', userId: 'tg:1', locale: 'ru' })).toEqual([{ text: TEXTS.ru.greeting }]);
    expect(await conversation.handle({ kind: 'start', userId: 'tg:1', locale: 'en' })).toEqual([{ text: TEXTS.en.greeting }]);
    expect(llm.stats().requests).toBe(0);
  });

  it('sends the stable system prompt first and earlier turns in order', async () => {
    await conversation.handle({ kind: 'text', userId: 'tg:2', locale: 'en', text: 'first', turnKey: 'u1' });
    await conversation.handle({ kind: 'text', userId: 'tg:2', locale: 'en', text: 'second', turnKey: 'u2' });
    const [, second] = llm.requests();
    expect(second?.system).toBe(SYSTEM_PROMPT);
    expect(second?.messages.map((m) => [m.role, m.text])).toEqual([
      ['user', 'first'],
      ['assistant', 'Mock reply to: first'],
      ['user', 'second'],
    ]);
  });

  it('answers a retried turn from the store without a second model call', async () => {
    const turn = { kind: 'text' as const, userId: 'tg:3', locale: 'en' as const, text: 'once', turnKey: 'u9' };
    const first = await conversation.handle(turn);
    const again = await conversation.handle(turn);
    expect(again).toEqual(first);
    expect(llm.stats().requests).toBe(1);
  });

  it('retries a turn whose model call failed without repeating the message in the prompt', async () => {
    const turn = { kind: 'text' as const, userId: 'tg:4', locale: 'en' as const, text: 'flaky', turnKey: 'u5' };
    llm.script({ status: 503 });
    const failure = conversation.handle(turn);
    await expect(failure).rejects.toBeInstanceOf(ProviderError);
    await expect(failure).rejects.toMatchObject({ kind: 'server' });
    await expect(conversation.handle(turn)).resolves.toEqual([{ text: 'Mock reply to: flaky' }]);
    const retried = llm.requests().at(-1);
    expect(retried?.messages.map((m) => m.text)).toEqual(['flaky']);
    expect(await mongo.db.collection('messages').countDocuments({ userId: 'tg:4' })).toBe(2);
  });

  it('does not call the model for an empty text or an unsupported message', async () => {
    expect(await conversation.handle({ kind: 'text', userId: 'tg:5', locale: 'en', text: '  ', turnKey: 'u1' })).toEqual([{ text: TEXTS.en.emptyMessage }]);
    expect(await conversation.handle({ kind: 'unsupported', userId: 'tg:5', locale: 'ru' })).toEqual([{ text: TEXTS.ru.emptyMessage }]);
    expect(llm.stats().requests).toBe(0);
  });
});

describe('crisis safety in the conversation', () => {
  let mongo: MongoConnection;
  let store: ConversationStore;
  let llm: MockLlmServer;
  let conversation: Conversation;

  beforeAll(async () => {
    mongo = await connectMongo(serviceUrls().mongoUrl, uniquePrefix('crisis').replace(/[^A-Za-z0-9_]/g, '_'));
    store = new ConversationStore(mongo.db);
    llm = await startMockOpenAI();
    const model = new OpenAIChatProvider({ apiKey: 'test-key', model: 'gpt-test', baseURL: llm.sdkBaseUrl });
    // The phrase layer alone: the model classifier is exercised in the safety package's tests.
    conversation = new Conversation({ model, memory: store, llmTimeoutMs: 5000, safety: new CrisisDetector() });
  });
  beforeEach(() => llm.reset());
  afterAll(async () => {
    await llm.close();
    await mongo.db.dropDatabase();
    await mongo.close();
  });

  it('answers a high-risk message with the crisis reply and hotlines, without the model, and stores a text-free risk event', async () => {
    const replies = await conversation.handle({ kind: 'text', userId: 'tg:9', locale: 'ru', text: 'я хочу покончить с собой', turnKey: 'u1' });
    expect(replies).toHaveLength(1);
    expect(replies[0]!.text).toContain(TEXTS.ru.crisisHigh);
    expect(replies[0]!.text).toContain('8-800-2000-122');
    expect(replies[0]!.text).toContain('112');
    expect(llm.stats().requests).toBe(0);
    const events = await store.riskEventsOf('tg:9');
    expect(events).toEqual([expect.objectContaining({ level: 'high', sources: ['phrases'] })]);
    expect(JSON.stringify(events)).not.toContain('покончить');
    // A retried turn sends the same reply and stores no second event.
    expect(await conversation.handle({ kind: 'text', userId: 'tg:9', locale: 'ru', text: 'я хочу покончить с собой', turnKey: 'u1' })).toEqual(replies);
    expect(await store.riskEventsOf('tg:9')).toHaveLength(1);
  });

  it('answers a low-risk message with care and then the contacts', async () => {
    const replies = await conversation.handle({ kind: 'text', userId: 'tg:10', locale: 'en', text: "I can't go on like this", turnKey: 'u1' });
    expect(replies.map((r) => r.text)).toEqual([`Mock reply to: I can't go on like this`, expect.stringContaining('988')]);
    expect(await store.riskEventsOf('tg:10')).toEqual([expect.objectContaining({ level: 'low' })]);
  });

  it('does not treat idioms as risk', async () => {
    const replies = await conversation.handle({ kind: 'text', userId: 'tg:11', locale: 'en', text: "I'm dying to see the movie", turnKey: 'u1' });
    expect(replies).toEqual([{ text: "Mock reply to: I'm dying to see the movie" }]);
    expect(await store.riskEventsOf('tg:11')).toEqual([]);
  });

  it('always answers /sos with the hotlines of the locale', async () => {
    const [en] = await conversation.handle({ kind: 'sos', userId: 'tg:12', locale: 'en' });
    expect(en!.text).toContain('988');
    expect(en!.text).toContain('911');
    const [ru] = await conversation.handle({ kind: 'sos', userId: 'tg:12', locale: 'ru' });
    expect(ru!.text).toContain('8-800-2000-122');
    expect(ru!.text).toContain('051');
  });
});
