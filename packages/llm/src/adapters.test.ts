// The contract both adapters share, driven through the real SDKs against the mock servers.
import net from 'node:net';
import { apiKeyFingerprint, startMockGemini, startMockOpenAI, type MockLlmServer } from '../../mocks/src/llm';
import { ProviderError } from './errors';
import { GeminiChatProvider } from './gemini';
import { OpenAIChatProvider } from './openai';
import type { ChatProvider, ChatRequest } from './provider';

interface Case {
  provider: 'openai' | 'gemini';
  start: (config?: Parameters<typeof startMockOpenAI>[0]) => Promise<MockLlmServer>;
  make: (baseUrl: string, extra?: { defaultMaxOutputTokens?: number; apiKey?: string }) => ChatProvider;
  assistantRole: string;
  model: string;
  /** outputTokens the mock reports for a reply with this many reply tokens and reasoning tokens. */
  output: (reply: number, reasoning: number) => number;
}

const CASES: Case[] = [
  {
    provider: 'openai',
    start: startMockOpenAI,
    make: (baseURL, extra) => new OpenAIChatProvider({ apiKey: 'sk-test', model: 'gpt-test', baseURL, ...extra }),
    assistantRole: 'assistant',
    model: 'gpt-test',
    output: (reply, reasoning) => reply + reasoning,
  },
  {
    provider: 'gemini',
    start: startMockGemini,
    make: (baseUrl, extra) => new GeminiChatProvider({ apiKey: 'g-test', model: 'gemini-test', baseUrl, ...extra }),
    assistantRole: 'model',
    model: 'gemini-test',
    output: (reply) => reply,
  },
];

const REQUEST: ChatRequest = {
  system: 'You are a calm companion.',
  turns: [
    { role: 'user', text: 'I could not sleep.' },
    { role: 'assistant', text: 'That sounds hard.' },
    { role: 'user', text: 'What can I try tonight?' },
  ],
  maxOutputTokens: 80,
  temperature: 0.4,
  timeoutMs: 2000,
};

async function failure(promise: Promise<unknown>): Promise<ProviderError> {
  try {
    await promise;
  } catch (err) {
    expect(err).toBeInstanceOf(ProviderError);
    return err as ProviderError;
  }
  throw new Error('expected the call to fail');
}

async function closedPortUrl(): Promise<string> {
  const probe = net.createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as net.AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return `http://127.0.0.1:${port}`;
}

describe.each(CASES)('$provider adapter against its mock', (c) => {
  let server: MockLlmServer;
  let provider: ChatProvider;

  beforeEach(async () => {
    // A mock Gemini that does not think: these cases are about mapping fields (thinking has its own tests).
    server = await c.start({ config: { cachedTokens: 3, reasoningTokens: 2, thinkingTokens: 0 } });
    provider = c.make(server.sdkBaseUrl);
  });
  afterEach(() => server.close());

  it('returns the reply with usage mapped field by field', async () => {
    const result = await provider.complete(REQUEST);
    const reply = 'Mock reply to: What can I try tonight?';
    const prompt = [REQUEST.system, ...REQUEST.turns.map((t) => t.text)].join('\n');
    expect(result).toEqual({
      text: reply,
      usage: {
        inputTokens: Math.ceil(prompt.length / 4),
        cachedInputTokens: 3,
        outputTokens: c.output(Math.ceil(reply.length / 4), 2),
        reasoningTokens: 2,
      },
      provider: c.provider,
      model: c.model,
      latencyMs: expect.any(Number),
    });
  });

  it('sends the system prompt, the turns in order and the generation settings', async () => {
    await provider.complete(REQUEST);
    expect(server.requests()).toEqual([
      expect.objectContaining({
        model: c.model,
        apiKey: apiKeyFingerprint(c.provider === 'openai' ? 'sk-test' : 'g-test'),
        system: REQUEST.system,
        messages: [
          { role: 'user', text: 'I could not sleep.' },
          { role: c.assistantRole, text: 'That sounds hard.' },
          { role: 'user', text: 'What can I try tonight?' },
        ],
        maxOutputTokens: 80,
        temperature: 0.4,
        outcome: 200,
      }),
    ]);
  });

  it('falls back to defaultMaxOutputTokens and leaves out an empty system prompt and unset settings', async () => {
    await c.make(server.sdkBaseUrl, { defaultMaxOutputTokens: 33 }).complete({ system: '', turns: [{ role: 'user', text: 'hi' }], timeoutMs: 2000 });
    await provider.complete({ system: 'S', turns: [{ role: 'user', text: 'hi' }], timeoutMs: 2000 });
    const [first, second] = server.requests();
    expect(first).toMatchObject({ system: null, maxOutputTokens: 33, temperature: null });
    expect(second).toMatchObject({ system: 'S', maxOutputTokens: null, temperature: null });
  });

  it('times out at timeoutMs when the provider never answers', async () => {
    server.script({ hang: true });
    const started = performance.now();
    const err = await failure(provider.complete({ ...REQUEST, timeoutMs: 300 }));
    const elapsed = performance.now() - started;
    expect(err).toMatchObject({ kind: 'timeout', provider: c.provider, status: undefined });
    expect(err.providerSide).toBe(true);
    expect(elapsed).toBeGreaterThanOrEqual(290);
    expect(elapsed).toBeLessThan(800);
    expect(server.stats().requests).toBe(1);
  });

  it('times out on a slow answer too (latency beyond the deadline)', async () => {
    server.configure({ latency: { kind: 'fixed', ms: 1500 } });
    const err = await failure(provider.complete({ ...REQUEST, timeoutMs: 200 }));
    expect(err.kind).toBe('timeout');
  });

  it.each([
    [500, 'server'],
    [503, 'server'],
    [400, 'bad_request'],
    [404, 'bad_request'],
    [422, 'bad_request'],
    [401, 'auth'],
    [403, 'auth'],
    [429, 'rate_limited'],
  ] as const)('maps HTTP %i to %s with exactly one attempt', async (status, kind) => {
    // Two faults queued: an SDK retry would consume the second one and show up in the count.
    server.script([{ status }, { status }]);
    const err = await failure(provider.complete(REQUEST));
    expect(err).toMatchObject({ kind, status, provider: c.provider, retryAfterMs: undefined });
    expect(err.providerSide).toBe(kind === 'server' || kind === 'rate_limited');
    expect(server.stats()).toMatchObject({ requests: 1, pendingFaults: 1 });
  });

  it.each([
    ['retry-after seconds', { 'retry-after': '2' }, 2000],
    ['retry-after-ms', { 'retry-after-ms': '1500' }, 1500],
    ['retry-after-ms over retry-after', { 'retry-after-ms': '250', 'retry-after': '9' }, 250],
  ])('reads %s on a 429', async (_label, headers, expected) => {
    server.script({ status: 429, headers });
    const err = await failure(provider.complete(REQUEST));
    expect(err).toMatchObject({ kind: 'rate_limited', status: 429, retryAfterMs: expected });
  });

  it('reads retry-after as an HTTP date', async () => {
    server.script({ status: 429, headers: { 'retry-after': new Date(Date.now() + 5000).toUTCString() } });
    const err = await failure(provider.complete(REQUEST));
    expect(err.retryAfterMs).toBeGreaterThan(3000);
    expect(err.retryAfterMs).toBeLessThanOrEqual(5000);
  });

  it('reports a wrong API key as auth', async () => {
    server.configure({ validApiKeys: ['someone-else'] });
    const err = await failure(provider.complete(REQUEST));
    expect(err.kind).toBe('auth');
    expect(err.providerSide).toBe(false);
  });

  it('reports a dropped connection as connection, with one attempt', async () => {
    server.script([{ reset: true }, { reset: true }]);
    const err = await failure(provider.complete(REQUEST));
    expect(err).toMatchObject({ kind: 'connection', status: undefined });
    expect(server.stats()).toMatchObject({ requests: 1, pendingFaults: 1 });
  });

  it('reports a refused connection as connection', async () => {
    const err = await failure(c.make(await closedPortUrl() + server.sdkBaseUrl.slice(server.url.length)).complete(REQUEST));
    expect(err).toMatchObject({ kind: 'connection', provider: c.provider });
  });

  it('reports a 200 that is not JSON as server', async () => {
    server.script({ status: 200, body: 'not json', headers: { 'content-type': 'application/json' } });
    const err = await failure(provider.complete(REQUEST));
    expect(err.kind).toBe('server');
  });

  it('rejects a non-positive timeoutMs without calling the provider', async () => {
    const err = await failure(provider.complete({ ...REQUEST, timeoutMs: 0 }));
    expect(err.kind).toBe('bad_request');
    expect(server.stats().requests).toBe(0);
  });
});

describe.each(CASES)('$provider adapter construction', (c) => {
  it('refuses an empty API key with a typed auth error', () => {
    let thrown: unknown;
    try {
      c.make('http://127.0.0.1:9', { apiKey: '' });
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(ProviderError);
    expect(thrown).toMatchObject({ kind: 'auth', provider: c.provider });
  });
});
