import { GeminiChatProvider, OpenAIChatProvider, ProviderError } from '@inner-talk/llm';
import { CLASSIFIER_PROMPT_START, RISK_MARKERS, startMockGemini, startMockOpenAI, type MockLlmServer } from '@inner-talk/mocks';
import { classifyByPhrases, CLASSIFIER_PROMPT, ClassifierTimeoutError, CrisisDetector, HOTLINES, parseClassifierAnswer, UnreadableClassifierAnswerError } from './index';
import { EN_RULES } from './rules/en';
import { RU_RULES } from './rules/ru';

const HIGH = [
  'I want to kill myself',
  "I don't want to live anymore",
  'Sometimes I think everyone would be better off without me',
  "I've been cutting myself again",
  'I wish I could fall asleep and never wake up',
  'there is no reason to live',
  'I am planning to end my life',
  'Я хочу покончить с собой',
  'не хочу больше жить',
  'Всем будет лучше без меня',
  'думаю наглотаться таблеток',
  'Лучше бы я не родилась',
  'хочу уснуть и не проснуться',
  'я опять режу себя',
  'мысли о самоубийстве не отпускают',
  'Хочется умереть',
  // The idiom filter must not erase real statements.
  'I want to die for real',
  'I deserve to die for what I did',
  // Free Russian word order and inflection.
  'жить не хочу',
  'покончу с собой',
  // Obfuscation: homoglyphs, zero-width characters, spaced letters, a phrase split across merged messages.
  'хочу умeрeть',
  'ki\u200bll myself',
  's u i c i d e',
  'i want\nto die',
];

const LOW = ["I can't go on like this", 'I am a burden to everyone', 'Больше не могу, не вижу выхода', 'я никому не нужна'];

const NONE = [
  "I'm dying to see the movie",
  'I killed time at the airport',
  'This cake is to die for',
  'I nearly died of embarrassment',
  'убил время в очереди',
  'Я умираю от смеха',
  'до смерти устал на работе',
  'My exam is tomorrow and I feel anxious',
  'Мне тревожно перед собеседованием',
  'take my dog for a walk',
  'You will kill it at the interview',
  "I'm dying to see it",
];

describe('phrase layer', () => {
  it.each(HIGH)('flags "%s" as high', (text) => expect(classifyByPhrases(text).level).toBe('high'));
  it.each(LOW)('flags "%s" as low', (text) => expect(classifyByPhrases(text).level).toBe('low'));
  it.each(NONE)('does not flag "%s"', (text) => expect(classifyByPhrases(text).level).toBe('none'));

  it('discards a hit only when an idiom covers all of it', () => {
    expect(classifyByPhrases('I want to die of laughter every time I see that video').level).toBe('none');
    expect(classifyByPhrases('I want to die, and this time it is not a figure of speech').level).toBe('high');
  });

  it('names the rules that fired, never the text', () => {
    const result = classifyByPhrases('хочу покончить с собой');
    expect(result.rules).toContain('ru.direct.pokonchit_s_soboy');
    expect(result.rules.join(' ')).not.toContain('хочу');
    expect(classifyByPhrases('what should I cook tonight').rules).toEqual([]);
  });

  it('leaves a message about someone else to the model layer', () => {
    expect(classifyByPhrases('my friend said she wants to die, how can I help her').level).toBe('none');
    expect(classifyByPhrases('my mom would be better off without me').level).toBe('high');
  });

  it('gives every rule a unique name that starts with its language and category', () => {
    const rules = [...EN_RULES.map((r) => ['en', r] as const), ...RU_RULES.map((r) => ['ru', r] as const)];
    expect(new Set(rules.map(([, r]) => r.name)).size).toBe(rules.length);
    for (const [lang, rule] of rules) expect(rule.name.startsWith(`${lang}.`)).toBe(true);
  });

  it('never throws, whatever it is given', () => {
    for (const input of ['', ' ', '\u200b', 'a'.repeat(20_000), '\uD800', null as unknown as string, 42 as unknown as string]) {
      expect(() => classifyByPhrases(input)).not.toThrow();
    }
  });

  it('stays well under a millisecond per typical message', () => {
    const messages = [...HIGH, ...LOW, ...NONE];
    for (const m of messages) classifyByPhrases(m);
    const started = performance.now();
    const rounds = 20;
    for (let i = 0; i < rounds; i++) for (const m of messages) classifyByPhrases(m);
    expect((performance.now() - started) / (rounds * messages.length)).toBeLessThan(1);
  });
});

it('reads the classifier answer by its first word; anything else is unreadable (null)', () => {
  expect(parseClassifierAnswer(' NONE.')).toBe('none');
  expect(parseClassifierAnswer('low')).toBe('low');
  expect(parseClassifierAnswer('HIGH\n')).toBe('high');
  expect(parseClassifierAnswer('I cannot help with that')).toBeNull();
  expect(parseClassifierAnswer('')).toBeNull();
});

it('lists only the verified hotlines', () => {
  const numbers = [...HOTLINES.ru, ...HOTLINES.en].map((h) => h.number).join(' ');
  for (const n of numbers.match(/\d[\d-]*/g) ?? []) expect(['112', '8-800-2000-122', '124', '051', '8-495-051', '988', '911']).toContain(n);
});

describe('two layers with the model classifier (real OpenAI SDK, mock API)', () => {
  let server: MockLlmServer;
  let detector: CrisisDetector;
  const completion = (content: string) => ({
    status: 200,
    body: { id: 'c1', object: 'chat.completion', created: 1, model: 'gpt-test', choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: 'stop' }], usage: { prompt_tokens: 10, completion_tokens: 1, total_tokens: 11 } },
  });

  beforeAll(async () => {
    server = await startMockOpenAI();
    detector = new CrisisDetector({ model: new OpenAIChatProvider({ apiKey: 'k', model: 'gpt-test', baseURL: server.sdkBaseUrl }), timeoutMs: 1000 });
  });
  afterAll(() => server.close());

  it('raises the level when only the model sees the risk', async () => {
    server.script(completion('HIGH'));
    const quiet = 'Everything feels quiet now, I know what I will do';
    expect(classifyByPhrases(quiet).level).toBe('none');
    expect(await detector.assess(quiet)).toEqual({ level: 'high', sources: ['classifier'] });
  });

  it('reports both layers when both see the risk', async () => {
    server.script(completion('HIGH'));
    expect(classifyByPhrases("I can't go on like this").level).toBe('low');
    expect(await detector.assess("I can't go on like this")).toEqual({ level: 'high', sources: ['phrases', 'classifier'] });
  });

  it('answers a high phrase match at once, without asking the model', async () => {
    const before = server.stats().requests;
    expect(await detector.assess('I want to kill myself')).toEqual({ level: 'high', sources: ['phrases'] });
    expect(server.stats().requests).toBe(before);
  });

  it('keeps a low phrase match when the model says none', async () => {
    server.script(completion('NONE'));
    expect(await detector.assess("I can't go on like this")).toEqual({ level: 'low', sources: ['phrases'] });
  });

  it('answers none when both layers do', async () => {
    server.script(completion('NONE'));
    expect(await detector.assess("I'm dying to see the movie")).toEqual({ level: 'none', sources: [] });
  });

  it('fails closed when the classifier errors, and says why', async () => {
    server.script({ status: 500 });
    const risk = await detector.assess('hello');
    expect(risk).toMatchObject({ level: 'high', sources: ['classifier_error'] });
    expect(risk.classifierFailure?.cause).toMatchObject({ name: 'ProviderError', kind: 'server' });
  });

  it('fails closed when the classifier refuses', async () => {
    server.script({ status: 200, body: { id: 'c', object: 'chat.completion', created: 1, model: 'gpt-test', choices: [{ index: 0, message: { role: 'assistant', content: null, refusal: 'No.' }, finish_reason: 'stop' }] } });
    const risk = await detector.assess('hello');
    expect(risk.level).toBe('high');
    expect(risk.classifierFailure?.cause).toMatchObject({ kind: 'refused' });
  });

  it('fails closed when the classifier answers something else than the three words', async () => {
    server.script(completion('I am not able to classify this'));
    const risk = await detector.assess('hello');
    expect(risk.level).toBe('high');
    expect(risk.classifierFailure?.cause).toBeInstanceOf(UnreadableClassifierAnswerError);
  });

  it('fails closed when the classifier times out', async () => {
    server.script({ hang: true });
    const started = Date.now();
    expect(await detector.assess('hello')).toMatchObject({ level: 'high', sources: ['classifier_error'] });
    expect(Date.now() - started).toBeLessThan(3000);
  });

  it('gives up on a model layer that ignores its budget once the budget is spent', async () => {
    const stuck = new CrisisDetector({ model: { name: 'stuck', model: 'stuck', complete: () => new Promise(() => undefined) }, timeoutMs: 200 });
    const started = Date.now();
    const risk = await stuck.assess('hello');
    expect(risk.classifierFailure?.cause).toBeInstanceOf(ClassifierTimeoutError);
    expect(Date.now() - started).toBeLessThan(1000);
  });
});

describe('the classifier against Gemini, which thinks by default (real @google/genai SDK, mock API)', () => {
  let server: MockLlmServer;
  const gemini = () => new GeminiChatProvider({ apiKey: 'k', model: 'gemini-2.5-flash', baseUrl: server.sdkBaseUrl });

  beforeAll(async () => {
    server = await startMockGemini();
  });
  afterAll(() => server.close());

  it('a few output tokens without turning thinking off get no word back (what the real API does)', async () => {
    const failure = await gemini()
      .complete({ system: CLASSIFIER_PROMPT, turns: [{ role: 'user', text: 'hello' }], maxOutputTokens: 5, temperature: 0, timeoutMs: 2000 })
      .catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(ProviderError);
    expect(failure).toMatchObject({ kind: 'server', message: expect.stringContaining('MAX_TOKENS') });
  });

  it('gets its word with thinking off', async () => {
    expect(CLASSIFIER_PROMPT.startsWith(CLASSIFIER_PROMPT_START)).toBe(true);
    const detector = new CrisisDetector({ model: gemini(), timeoutMs: 2000 });
    expect(await detector.assess('hello')).toEqual({ level: 'none', sources: [] });
    expect(await detector.assess(`Everything feels quiet now, I know what I will do ${RISK_MARKERS.high}`)).toEqual({ level: 'high', sources: ['classifier'] });
    const sent = server.requests().map((r) => (r.body as { generationConfig?: Record<string, unknown> }).generationConfig);
    expect(sent.at(-1)).toMatchObject({ thinkingConfig: { thinkingBudget: 0 }, maxOutputTokens: 16 });
  });
});
