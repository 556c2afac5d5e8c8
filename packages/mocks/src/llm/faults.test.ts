import { createRequire } from 'node:module';
import path from 'node:path';
import type * as GenAI from '../../../llm/node_modules/@google/genai/dist/node/node';
import type * as OpenAISdk from '../../../llm/node_modules/openai';
import { mockLlmControl, startMockGemini, startMockOpenAI, type MockLlmServer, type MockOutcomeKind } from './index';
import { MockState } from './state';

// The SDKs are dependencies of @inner-talk/llm, not of this package: resolve that package's copies (the
// very ones the app talks to the real APIs with) and load them through jest's registry, as its own tests do.
const fromLlm = createRequire(path.join(__dirname, '../../../llm/package.json'));
const { OpenAI, APIError, APIConnectionError, APIConnectionTimeoutError } = jest.requireActual<typeof OpenAISdk>(fromLlm.resolve('openai'));
const { GoogleGenAI, ApiError } = jest.requireActual<typeof GenAI>(fromLlm.resolve('@google/genai'));

const servers: MockLlmServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function openai(config?: Parameters<MockLlmServer['configure']>[0], requestLogSize?: number) {
  const s = await startMockOpenAI({ ...(config ? { config } : {}), ...(requestLogSize ? { requestLogSize } : {}) });
  servers.push(s);
  return s;
}
async function gemini(config?: Parameters<MockLlmServer['configure']>[0]) {
  const s = await startMockGemini(config ? { config } : {});
  servers.push(s);
  return s;
}

function openaiClient(server: MockLlmServer, timeout?: number) {
  return new OpenAI({ apiKey: 'sk-test', baseURL: server.sdkBaseUrl, maxRetries: 0, logLevel: 'off', ...(timeout ? { timeout } : {}) });
}
function chat(server: MockLlmServer, timeout?: number) {
  return openaiClient(server, timeout).chat.completions.create({ model: 'gpt-x', messages: [{ role: 'user', content: 'hi' }] });
}

function geminiClient(server: MockLlmServer) {
  // As GeminiChatProvider does, hand the SDK a fetch: its default one looks for undici's global dispatcher
  // on globalThis, which jest's sandbox does not have.
  const viaFetch: typeof fetch = (input, init) => fetch(input, init);
  return new GoogleGenAI({ apiKey: 'g-test', vertexai: false, httpOptions: { baseUrl: server.sdkBaseUrl, fetch: viaFetch } });
}
function generate(server: MockLlmServer, abortSignal?: AbortSignal) {
  return geminiClient(server).models.generateContent({
    model: 'gemini-x',
    contents: [{ role: 'user', parts: [{ text: 'hi' }] }],
    ...(abortSignal ? { config: { abortSignal } } : {}),
  });
}

/** The rejection of a call that must fail (fails the test when it resolves). */
async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => {
      throw new Error('expected the call to fail');
    },
    (err: unknown) => err,
  );
}

/** The Google error body that @google/genai puts (as JSON) in ApiError.message. */
function googleBody(err: unknown): { error: { code: number; status: string; message: string; details: Record<string, unknown>[] } } {
  expect(err).toBeInstanceOf(ApiError);
  return JSON.parse((err as Error).message) as ReturnType<typeof googleBody>;
}

/** A plain POST to the Gemini route, to see headers the SDK does not expose. */
function rawGenerate(server: MockLlmServer, signal?: AbortSignal) {
  return fetch(`${server.url}/v1beta/models/gemini-x:generateContent`, {
    method: 'POST',
    headers: { 'x-goog-api-key': 'g-test', 'content-type': 'application/json' },
    body: JSON.stringify({ contents: [{ role: 'user', parts: [{ text: 'hi' }] }] }),
    ...(signal ? { signal } : {}),
  });
}

async function until(check: () => boolean, ms = 2000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

const KINDS = (counts: Partial<Record<MockOutcomeKind, number>>) => ({ ok: 0, error: 0, rate_limited: 0, timeout: 0, refused: 0, ...counts });

describe('standing faults, OpenAI (official SDK, maxRetries 0)', () => {
  it('errorRate 1 answers errorStatus (default 503) in OpenAI error shape', async () => {
    const server = await openai({ errorRate: 1 });
    const err = await rejection(chat(server));
    expect(err).toBeInstanceOf(APIError);
    expect(err).toMatchObject({ status: 503, type: 'server_error', code: null, error: { message: 'The server is overloaded or not ready yet.' } });
    server.configure({ errorStatus: 500 });
    expect(await rejection(chat(server))).toMatchObject({ status: 500, type: 'server_error' });
    expect(server.stats().byKind).toEqual(KINDS({ error: 2 }));
    expect(server.requests().map((r) => r.fault)).toEqual(['errorRate', 'errorRate']);
  });

  it('rateLimitRate 1 answers a retryable 429 with retry-after, retry-after-ms and rate_limit_exceeded', async () => {
    const server = await openai({ rateLimitRate: 1, retryAfterMs: 2500 });
    const err = (await rejection(chat(server))) as InstanceType<typeof APIError>;
    expect(err).toMatchObject({ status: 429, type: 'requests', code: 'rate_limit_exceeded' });
    expect(err.message).toContain('Rate limit reached for gpt-x');
    expect(err.message).toContain('Please try again in 2.5s');
    expect(err.headers?.get('retry-after')).toBe('3');
    expect(err.headers?.get('retry-after-ms')).toBe('2500');

    server.configure({ retryAfterHeaders: 'ms' });
    const msOnly = (await rejection(chat(server))) as InstanceType<typeof APIError>;
    expect([msOnly.headers?.get('retry-after'), msOnly.headers?.get('retry-after-ms')]).toEqual([null, '2500']);
    server.configure({ retryAfterHeaders: 'none' });
    const none = (await rejection(chat(server))) as InstanceType<typeof APIError>;
    expect([none.headers?.get('retry-after'), none.headers?.get('retry-after-ms')]).toEqual([null, null]);
    expect(server.stats().byKind).toEqual(KINDS({ rate_limited: 3 }));
  });

  it("quotaExhausted 'day' is insufficient_quota without retry headers; 'minute' is the rate limit", async () => {
    const server = await openai({ quotaExhausted: 'day' });
    const day = (await rejection(chat(server))) as InstanceType<typeof APIError>;
    expect(day).toMatchObject({ status: 429, type: 'insufficient_quota', code: 'insufficient_quota' });
    expect(day.message).toContain('You exceeded your current quota');
    expect([day.headers?.get('retry-after'), day.headers?.get('retry-after-ms')]).toEqual([null, null]);
    server.configure({ quotaExhausted: 'minute' });
    const minute = (await rejection(chat(server))) as InstanceType<typeof APIError>;
    expect(minute).toMatchObject({ status: 429, code: 'rate_limit_exceeded' });
    expect(minute.headers?.get('retry-after-ms')).toBe('1000');
    expect(server.requests().map((r) => [r.outcome, r.kind, r.fault])).toEqual([
      [429, 'rate_limited', 'quota'],
      [429, 'rate_limited', 'quota'],
    ]);
  });

  it('timeoutRate 1 hangs until the client gives up, then the request is no longer in flight', async () => {
    const server = await openai({ timeoutRate: 1 });
    const started = Date.now();
    const err = await rejection(chat(server, 300));
    // Outside jest this is APIConnectionTimeoutError; under jest the abort's DOMException comes from another
    // realm than the SDK's Error, so the SDK cannot tell it from any other connection error.
    expect(err).toBeInstanceOf(APIConnectionError);
    expect(Date.now() - started).toBeGreaterThanOrEqual(280);
    await until(() => server.stats().inFlight === 0);
    expect(server.stats()).toMatchObject({ byKind: KINDS({ timeout: 1 }), byOutcome: { hang: 1 } });
  });

  it("down in 'refuse' mode drops the connection: the SDK reports a connection error, not a timeout", async () => {
    const server = await openai({ down: true, downMode: 'refuse' });
    const err = await rejection(chat(server));
    expect(err).toBeInstanceOf(APIConnectionError);
    expect(err).not.toBeInstanceOf(APIConnectionTimeoutError);
    expect(server.stats().byKind).toEqual(KINDS({ refused: 1 }));
    expect(server.requests()[0]).toMatchObject({ outcome: 'reset', kind: 'refused', fault: 'down', scripted: false });
  });
});

describe('standing faults, Gemini (official @google/genai SDK)', () => {
  it('errorRate 1 answers 503 UNAVAILABLE in Google error shape', async () => {
    const server = await gemini({ errorRate: 1 });
    const err = await rejection(generate(server));
    expect((err as InstanceType<typeof ApiError>).status).toBe(503);
    expect(googleBody(err)).toEqual({
      error: { code: 503, message: 'The model is overloaded. Please try again later.', status: 'UNAVAILABLE', details: [] },
    });
    expect(server.stats()).toMatchObject({ requests: 1, byKind: KINDS({ error: 1 }) });
  });

  it('rateLimitRate 1 answers RESOURCE_EXHAUSTED with a PerMinute QuotaFailure, RetryInfo and retry headers', async () => {
    const server = await gemini({ rateLimitRate: 1, retryAfterMs: 2500 });
    const err = await rejection(generate(server));
    expect((err as InstanceType<typeof ApiError>).status).toBe(429);
    const body = googleBody(err);
    expect(body.error).toMatchObject({ code: 429, status: 'RESOURCE_EXHAUSTED' });
    expect(body.error.message).toContain('Please retry in 2.5s.');
    expect(body.error.details).toEqual([
      { '@type': 'type.googleapis.com/google.rpc.Help', links: [expect.objectContaining({ url: expect.any(String) })] },
      {
        '@type': 'type.googleapis.com/google.rpc.QuotaFailure',
        violations: [
          {
            quotaMetric: 'generativelanguage.googleapis.com/generate_content_free_tier_requests',
            quotaId: 'GenerateRequestsPerMinutePerProjectPerModel-FreeTier',
            quotaDimensions: { location: 'global', model: 'gemini-x' },
            quotaValue: expect.any(String),
          },
        ],
      },
      { '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: '2.500s' },
    ]);
    // The SDK's ApiError carries no headers; check them on the wire.
    const raw = await rawGenerate(server);
    expect([raw.status, raw.headers.get('retry-after'), raw.headers.get('retry-after-ms')]).toEqual([429, '3', '2500']);
    expect(server.stats().byKind).toEqual(KINDS({ rate_limited: 2 }));
  });

  it("quotaExhausted 'day' reports the PerDay quota and no retry headers; 'minute' the PerMinute one", async () => {
    const server = await gemini({ quotaExhausted: 'day', retryAfterMs: 30000 });
    const day = googleBody(await rejection(generate(server)));
    const quotaIds = (b: typeof day) =>
      b.error.details.flatMap((d) => (Array.isArray(d['violations']) ? (d['violations'] as { quotaId: string }[]).map((v) => v.quotaId) : []));
    expect(quotaIds(day)).toEqual(['GenerateRequestsPerDayPerProjectPerModel-FreeTier']);
    expect(day.error.details).toContainEqual({ '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: '30s' });
    const raw = await rawGenerate(server);
    expect([raw.status, raw.headers.get('retry-after'), raw.headers.get('retry-after-ms')]).toEqual([429, null, null]);
    server.configure({ quotaExhausted: 'minute' });
    expect(quotaIds(googleBody(await rejection(generate(server))))).toEqual(['GenerateRequestsPerMinutePerProjectPerModel-FreeTier']);
    server.configure({ quotaExhausted: false });
    expect((await generate(server)).text).toBe('Mock reply to: hi');
  });

  it('hangs (timeoutRate, down hang) until the client aborts; refuse fails the fetch', async () => {
    // The SDK wraps what fetch threw as Error("exception <name>: <message> sending request", { cause }).
    const aborted = { message: expect.stringMatching(/AbortError|TimeoutError/) };
    const server = await gemini({ timeoutRate: 1 });
    await expect(generate(server, AbortSignal.timeout(200))).rejects.toMatchObject(aborted);
    server.configure({ timeoutRate: 0, down: true, downMode: 'hang' });
    await expect(generate(server, AbortSignal.timeout(200))).rejects.toMatchObject(aborted);
    server.configure({ downMode: 'refuse' });
    const refused = await rejection(generate(server));
    expect(refused).not.toBeInstanceOf(ApiError);
    // undici's TypeError comes from another realm than jest's, so compare by name.
    expect(refused).toMatchObject({ cause: { name: 'TypeError', message: 'fetch failed' } });
    await until(() => server.stats().inFlight === 0);
    expect(server.stats().byKind).toEqual(KINDS({ timeout: 2, refused: 1 }));
    expect(server.requests().map((r) => r.fault)).toEqual(['timeoutRate', 'down', 'down']);
  });
});

describe('standing fault rates', () => {
  const RATES = { seed: 42, timeoutRate: 0.05, rateLimitRate: 0.1, errorRate: 0.2 };
  const N = 400;

  /** Sends N requests at once; leaves the hung ones hanging and returns once all N have been decided. */
  async function burst(server: MockLlmServer): Promise<MockOutcomeKind[]> {
    const body = JSON.stringify({ model: 'gpt-x', messages: [{ role: 'user', content: 'hi' }] });
    const headers = { authorization: 'Bearer sk-test', 'content-type': 'application/json' };
    const settled = Array.from({ length: N }, () =>
      fetch(`${server.url}/v1/chat/completions`, { method: 'POST', headers, body }).then(
        async (res) => void (await res.arrayBuffer()),
        () => undefined,
      ),
    );
    await until(() => server.stats().byKind.ok + server.stats().byKind.error + server.stats().byKind.rate_limited + server.stats().byKind.timeout === N, 10000);
    const kinds = server.requests().map((r) => r.kind);
    await server.close(); // drops the hung requests
    await Promise.all(settled);
    return kinds;
  }

  it('honours the rates over 400 requests, and the same seed gives the same outcomes', async () => {
    const first = await burst(await openai(RATES, N));
    const count = (kind: MockOutcomeKind) => first.filter((k) => k === kind).length;
    // Within 4 standard deviations of the binomial expectation.
    const within = (kind: MockOutcomeKind, p: number) => {
      const sd = Math.sqrt(N * p * (1 - p));
      expect(Math.abs(count(kind) - N * p)).toBeLessThanOrEqual(4 * sd);
    };
    within('timeout', 0.05);
    within('rate_limited', 0.1);
    within('error', 0.2);
    within('ok', 0.65);
    expect(count('refused')).toBe(0);

    // Same seed, fresh server: the same outcomes in the same order of arrival, whatever the interleaving.
    expect(await burst(await openai(RATES, N))).toEqual(first);
  });

  it('draws from its own seeded stream: reproducible, seed-dependent, and close to the rates over many draws', () => {
    const draws = (seed: number) => {
      const state = new MockState('openai', { ...RATES, seed }, 1);
      return Array.from({ length: 20000 }, () => state.drawRateFault());
    };
    const a = draws(42);
    expect(draws(42)).toEqual(a);
    expect(draws(43)).not.toEqual(a);
    const share = (f: string | null) => a.filter((x) => x === f).length / a.length;
    expect(share('timeoutRate')).toBeCloseTo(0.05, 1);
    expect(Math.abs(share('rateLimitRate') - 0.1)).toBeLessThan(0.01);
    expect(Math.abs(share('errorRate') - 0.2)).toBeLessThan(0.012);
    expect(Math.abs(share(null) - 0.65)).toBeLessThan(0.014);
    // No rates, no draws: a fault-free config leaves the sequence where it was.
    const idle = new MockState('openai', { seed: 42 }, 1);
    expect(idle.drawRateFault()).toBeNull();
  });

  it('restarts the fault sequence on reset() and when a rate changes', async () => {
    const server = await openai({ seed: 5, errorRate: 0.5 });
    const statuses = async () => {
      const out: number[] = [];
      for (let i = 0; i < 20; i += 1) {
        out.push(
          await chat(server).then(
            () => 200,
            (e: unknown) => (e as { status: number }).status,
          ),
        );
      }
      return out;
    };
    const first = await statuses();
    expect(new Set(first)).toEqual(new Set([200, 503]));
    server.reset();
    expect(await statuses()).toEqual(first);
    server.configure({ errorRate: 0.5 });
    expect(await statuses()).toEqual(first);
  });
});

describe('standing faults at runtime', () => {
  it('a config change over HTTP applies to the very next request', async () => {
    const server = await openai();
    const control = mockLlmControl(server.url);
    const client = openaiClient(server);
    const ask = () => client.chat.completions.create({ model: 'gpt-x', messages: [{ role: 'user', content: 'hi' }] });

    expect((await ask()).choices[0]?.message.content).toBe('Mock reply to: hi');
    expect(await control.configure({ down: true })).toMatchObject({ down: true, downMode: 'error', errorStatus: 503 });
    expect(await rejection(ask())).toMatchObject({ status: 503 });
    await control.configure({ downMode: 'refuse' });
    expect(await rejection(ask())).toBeInstanceOf(APIConnectionError);
    await control.configure({ down: false });
    expect((await ask()).choices[0]?.message.content).toBe('Mock reply to: hi');
    expect((await control.stats()).byKind).toEqual(KINDS({ ok: 2, error: 1, refused: 1 }));
    expect((await control.requests()).map((r) => r.fault)).toEqual([null, 'down', 'down', null]);
  });

  it('scripted faults take precedence over standing ones', async () => {
    const server = await gemini({ down: true, quotaExhausted: 'day' });
    server.script([{ status: 200 }, { status: 500 }, { hang: true, delayMs: 0 }]);
    expect((await rawGenerate(server)).status).toBe(200);
    expect((await rawGenerate(server)).status).toBe(500);
    await expect(rawGenerate(server, AbortSignal.timeout(100))).rejects.toMatchObject({ name: 'TimeoutError' });
    expect((await rawGenerate(server)).status).toBe(503); // down beats quotaExhausted
    server.configure({ down: false });
    expect((await rawGenerate(server)).status).toBe(429);
    expect(server.requests().map((r) => [r.fault, r.scripted])).toEqual([
      ['script', true],
      ['script', true],
      ['script', true],
      ['down', false],
      ['quota', false],
    ]);
  });

  it('clearFaults() turns standing faults off and drops the script; reset() keeps standing faults', async () => {
    const server = await openai({ errorRate: 1 });
    const control = mockLlmControl(server.url);
    await control.script({ status: 500 });
    await control.reset();
    expect((await control.config()).errorRate).toBe(1);
    await control.script({ status: 500 });
    expect(await control.clearFaults()).toMatchObject({ errorRate: 0, rateLimitRate: 0, timeoutRate: 0, down: false, quotaExhausted: false });
    expect((await control.stats()).pendingFaults).toBe(0);
    expect((await chat(server)).choices).toHaveLength(1);
  });

  it('rejects bad fault settings with 400 and leaves the config alone', async () => {
    const server = await openai({ errorRate: 0.6 });
    const control = mockLlmControl(server.url);
    await expect(control.configure({ rateLimitRate: 0.5 })).rejects.toThrow(/400.*must not exceed 1/);
    await expect(control.configure({ errorRate: 1.5 })).rejects.toThrow(/400/);
    await expect(control.configure({ errorStatus: 200 })).rejects.toThrow(/400/);
    await expect(control.configure({ downMode: 'sideways' as never })).rejects.toThrow(/400/);
    await expect(control.configure({ quotaExhausted: 'hour' as never })).rejects.toThrow(/400/);
    await expect(control.configure({ down: 'yes' as never })).rejects.toThrow(/400/);
    expect(server.config()).toMatchObject({ errorRate: 0.6, rateLimitRate: 0, errorStatus: 503, downMode: 'error', down: false });
    await expect(startMockOpenAI({ config: { timeoutRate: 0.7, errorRate: 0.7 } })).rejects.toThrow(/must not exceed 1/);
  });
});

describe('close() with hung requests', () => {
  it('returns promptly, fails the hung clients and leaves no server, socket or timer behind', async () => {
    const resources = () => {
      const counts: Record<string, number> = {};
      for (const r of process.getActiveResourcesInfo()) counts[r] = (counts[r] ?? 0) + 1;
      return counts;
    };
    await new Promise((r) => setTimeout(r, 50)); // let earlier tests' sockets finish closing
    const before = resources();
    const openaiServer = await startMockOpenAI({ config: { timeoutRate: 1 } });
    const geminiServer = await startMockGemini({ config: { down: true, downMode: 'hang' } });
    servers.push(openaiServer, geminiServer); // closed again (a no-op) after the test, or if it fails early
    const pending = [
      ...Array.from({ length: 5 }, () => rejection(chat(openaiServer))),
      ...Array.from({ length: 5 }, () => rejection(generate(geminiServer))),
    ];
    await until(() => openaiServer.stats().inFlight === 5 && geminiServer.stats().inFlight === 5);
    const started = Date.now();
    await Promise.all([openaiServer.close(), geminiServer.close()]);
    expect(Date.now() - started).toBeLessThan(500);
    const errors = await Promise.all(pending);
    for (const err of errors.slice(0, 5)) expect(err).toBeInstanceOf(APIConnectionError);
    for (const err of errors.slice(5)) expect(err).toMatchObject({ cause: { name: 'TypeError', message: 'fetch failed' } });
    // Let the clients' socket teardown run, then nothing of ours may remain. Other code in this
    // process (the test runner, keep-alive agents) may hold a short timer of its own at any moment,
    // so a count above the one before must persist for 2 s to count as ours.
    const kinds = ['TCPServerWrap', 'TCPSocketWrap', 'Timeout'];
    let after = resources();
    for (let waited = 0; waited < 2_000 && kinds.some((k) => (after[k] ?? 0) > (before[k] ?? 0)); waited += 50) {
      await new Promise((r) => setTimeout(r, 50));
      after = resources();
    }
    // At most what there was before (a timer of the test runner may have ended meanwhile).
    for (const kind of kinds) {
      expect({ kind, count: after[kind] ?? 0 }).toEqual({ kind, count: Math.min(after[kind] ?? 0, before[kind] ?? 0) });
    }
  });
});
