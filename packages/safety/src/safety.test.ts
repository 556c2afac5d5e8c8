import { OpenAIChatProvider } from '@inner-talk/llm';
import { startMockOpenAI, type MockLlmServer } from '@inner-talk/mocks';
import { classifyByPhrases, CrisisDetector, HOTLINES, parseClassifierAnswer } from './index';
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

it('reads the classifier answer and treats anything unexpected as high', () => {
  expect(parseClassifierAnswer(' NONE.')).toBe('none');
  expect(parseClassifierAnswer('low')).toBe('low');
  expect(parseClassifierAnswer('HIGH')).toBe('high');
  expect(parseClassifierAnswer('I cannot help with that')).toBe('high');
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
    expect(await detector.assess('I have made my peace and said goodbye to everyone')).toEqual({ level: 'high', sources: ['phrases', 'classifier'] });
  });

  it('keeps the phrase layer when the model disagrees', async () => {
    server.script(completion('NONE'));
    expect(await detector.assess('I want to kill myself')).toEqual({ level: 'high', sources: ['phrases'] });
  });

  it('answers none when both layers do', async () => {
    server.script(completion('NONE'));
    expect(await detector.assess("I'm dying to see the movie")).toEqual({ level: 'none', sources: [] });
  });

  it('fails closed when the classifier errors', async () => {
    server.script({ status: 500 });
    expect(await detector.assess('hello')).toEqual({ level: 'high', sources: ['classifier_error'] });
  });

  it('fails closed when the classifier times out', async () => {
    server.script({ hang: true });
    const started = Date.now();
    expect(await detector.assess('hello')).toEqual({ level: 'high', sources: ['classifier_error'] });
    expect(Date.now() - started).toBeLessThan(3000);
  });
});
