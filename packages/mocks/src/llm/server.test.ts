import { apiKeyFingerprint, mockLlmControl, startMockGemini, startMockOpenAI, type MockLlmServer } from './index';

const servers: MockLlmServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function openai(options?: Parameters<typeof startMockOpenAI>[0]) {
  const s = await startMockOpenAI(options);
  servers.push(s);
  return s;
}
async function gemini(options?: Parameters<typeof startMockGemini>[0]) {
  const s = await startMockGemini(options);
  servers.push(s);
  return s;
}

function chat(server: MockLlmServer, body: unknown, key: string | null = 'sk-one') {
  return fetch(`${server.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(key === null ? {} : { authorization: `Bearer ${key}` }) },
    body: JSON.stringify(body),
  });
}

function generate(server: MockLlmServer, body: unknown, opts: { key?: string | null; version?: string; model?: string } = {}) {
  const key = opts.key === undefined ? 'g-one' : opts.key;
  return fetch(`${server.url}/${opts.version ?? 'v1beta'}/models/${opts.model ?? 'gemini-x'}:generateContent`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(key === null ? {} : { 'x-goog-api-key': key }) },
    body: JSON.stringify(body),
  });
}

const CHAT = {
  model: 'gpt-x',
  messages: [
    { role: 'system', content: 'sys' },
    { role: 'user', content: 'first question' },
    { role: 'assistant', content: 'an answer' },
    { role: 'user', content: [{ type: 'text', text: 'second question' }] },
  ],
  max_completion_tokens: 64,
  temperature: 0.2,
};

const GENERATE = {
  contents: [
    { role: 'user', parts: [{ text: 'first question' }] },
    { role: 'model', parts: [{ text: 'an answer' }] },
    { role: 'user', parts: [{ text: 'second question' }] },
  ],
  systemInstruction: { parts: [{ text: 'sys' }] },
  generationConfig: { maxOutputTokens: 64, temperature: 0.2, thinkingConfig: { thinkingBudget: 0 } },
};

describe('mock OpenAI', () => {
  it('answers a chat completion in OpenAI shape with the reply derived from the last user turn', async () => {
    const server = await openai({ config: { cachedTokens: 2, reasoningTokens: 5 } });
    const res = await chat(server, CHAT);
    expect(res.status).toBe(200);
    const body = (await res.json()) as Record<string, unknown>;
    expect(body).toMatchObject({
      object: 'chat.completion',
      model: 'gpt-x',
      choices: [{ index: 0, message: { role: 'assistant', content: 'Mock reply to: second question' }, finish_reason: 'stop' }],
      usage: { prompt_tokens_details: { cached_tokens: 2 }, completion_tokens_details: { reasoning_tokens: 5 } },
    });
    expect(typeof body['id']).toBe('string');
    expect(typeof body['created']).toBe('number');
    const usage = body['usage'] as Record<string, number>;
    expect(usage['prompt_tokens']).toBe(Math.ceil('sys\nfirst question\nan answer\nsecond question'.length / 4));
    expect(usage['completion_tokens']).toBe(Math.ceil('Mock reply to: second question'.length / 4) + 5);
    expect(usage['total_tokens']).toBe((usage['prompt_tokens'] ?? 0) + (usage['completion_tokens'] ?? 0));
  });

  it('records what it received, with the key only as a fingerprint', async () => {
    const server = await openai();
    await chat(server, CHAT, 'sk-secret-value');
    const [record] = server.requests();
    expect(record).toMatchObject({
      seq: 1,
      path: '/v1/chat/completions',
      model: 'gpt-x',
      apiKey: apiKeyFingerprint('sk-secret-value'),
      system: 'sys',
      messages: [
        { role: 'user', text: 'first question' },
        { role: 'assistant', text: 'an answer' },
        { role: 'user', text: 'second question' },
      ],
      maxOutputTokens: 64,
      temperature: 0.2,
      outcome: 200,
      scripted: false,
    });
    expect(server.stats().byApiKey).toEqual({ [apiKeyFingerprint('sk-secret-value')]: 1 });
    const { body: _body, ...withoutBody } = record ?? {};
    expect(JSON.stringify([server.stats(), withoutBody])).not.toContain('sk-secret-value');
  });

  it('rejects a missing key, an unknown key and a malformed body like OpenAI does', async () => {
    const server = await openai({ config: { validApiKeys: ['sk-good'] } });
    const missing = await chat(server, CHAT, null);
    expect(missing.status).toBe(401);
    const wrong = await chat(server, CHAT, 'sk-bad');
    expect(wrong.status).toBe(401);
    expect(await wrong.json()).toEqual({ error: expect.objectContaining({ type: 'invalid_request_error', code: 'invalid_api_key' }) });
    const bad = await chat(server, { model: 'gpt-x', messages: [] }, 'sk-good');
    expect(bad.status).toBe(400);
    expect(await bad.json()).toEqual({ error: expect.objectContaining({ message: expect.any(String), type: 'invalid_request_error' }) });
    expect((await chat(server, CHAT, 'sk-good')).status).toBe(200);
    expect(server.stats().byOutcome).toEqual({ '401': 2, '400': 1, '200': 1 });
  });

  it('quotes at most 200 characters without splitting emoji', async () => {
    const server = await openai();
    const long = '😊'.repeat(150) + 'x'.repeat(100);
    const res = await chat(server, { model: 'gpt-x', messages: [{ role: 'user', content: long }] });
    const body = (await res.json()) as { choices: { message: { content: string } }[] };
    expect(body.choices[0]?.message.content).toBe(`Mock reply to: ${'😊'.repeat(150)}${'x'.repeat(50)}`);
  });
});

describe('mock Gemini', () => {
  it.each(['v1', 'v1beta'])('answers generateContent on %s in Gemini shape', async (version) => {
    const server = await gemini({ config: { cachedTokens: 3, reasoningTokens: 4 } });
    const res = await generate(server, GENERATE, { version });
    expect(res.status).toBe(200);
    const body = (await res.json()) as Record<string, unknown>;
    const input = Math.ceil('sys\nfirst question\nan answer\nsecond question'.length / 4);
    const output = Math.ceil('Mock reply to: second question'.length / 4);
    expect(body).toEqual({
      candidates: [{ content: { role: 'model', parts: [{ text: 'Mock reply to: second question' }] }, finishReason: 'STOP', index: 0 }],
      usageMetadata: {
        promptTokenCount: input,
        candidatesTokenCount: output,
        totalTokenCount: input + output + 4,
        cachedContentTokenCount: 3,
        thoughtsTokenCount: 4,
      },
      modelVersion: 'gemini-x',
      responseId: 'mock-1',
    });
    expect(server.requests()[0]).toMatchObject({ system: 'sys', messages: [{ role: 'user' }, { role: 'model' }, { role: 'user' }] });
  });

  it('takes the key from ?key= too and answers key problems the way Google does', async () => {
    const server = await gemini({ config: { validApiKeys: ['g-good'] } });
    const viaQuery = await fetch(`${server.url}/v1beta/models/m:generateContent?key=g-good`, {
      method: 'POST',
      body: JSON.stringify(GENERATE),
    });
    expect(viaQuery.status).toBe(200);
    expect((await generate(server, GENERATE, { key: null })).status).toBe(403);
    const wrong = await generate(server, GENERATE, { key: 'g-bad' });
    expect(wrong.status).toBe(400);
    expect(await wrong.json()).toEqual({
      error: {
        code: 400,
        message: expect.any(String),
        status: 'INVALID_ARGUMENT',
        details: [expect.objectContaining({ reason: 'API_KEY_INVALID' })],
      },
    });
  });

  describe('thinks first, as Gemini 2.5 Flash does, unless thinkingBudget is 0', () => {
    const classify = (generationConfig: Record<string, unknown>) => ({
      contents: [{ role: 'user', parts: [{ text: 'hello' }] }],
      systemInstruction: { parts: [{ text: 'You are a safety classifier. Answer with one word.' }] },
      generationConfig,
    });
    type Body = { candidates: { content: { parts?: { text: string }[] }; finishReason: string }[]; usageMetadata: Record<string, number> };

    it('spends the whole small limit on thinking: no text part, finishReason MAX_TOKENS', async () => {
      const server = await gemini();
      const body = (await (await generate(server, classify({ maxOutputTokens: 5 }))).json()) as Body;
      expect(body.candidates[0]).toMatchObject({ content: { role: 'model' }, finishReason: 'MAX_TOKENS' });
      expect(body.candidates[0]?.content.parts).toBeUndefined();
      expect(body.usageMetadata).toMatchObject({ thoughtsTokenCount: 5, candidatesTokenCount: 0 });
    });

    it('answers the word with thinking off', async () => {
      const server = await gemini();
      const body = (await (await generate(server, classify({ maxOutputTokens: 16, thinkingConfig: { thinkingBudget: 0 } }))).json()) as Body;
      expect(body.candidates[0]).toMatchObject({ content: { parts: [{ text: 'NONE' }] }, finishReason: 'STOP' });
      expect(body.usageMetadata['thoughtsTokenCount']).toBe(0);
    });

    it('cuts the text when thinking leaves less than the reply needs, and thinks as configured', async () => {
      const server = await gemini({ config: { thinkingTokens: 10 } });
      const cut = (await (await generate(server, { ...GENERATE, generationConfig: { maxOutputTokens: 12 } })).json()) as Body;
      expect(cut.candidates[0]).toMatchObject({ content: { parts: [{ text: 'Mock rep' }] }, finishReason: 'MAX_TOKENS' });
      expect(cut.usageMetadata).toMatchObject({ thoughtsTokenCount: 10, candidatesTokenCount: 2 });
      const roomy = (await (await generate(server, { ...GENERATE, generationConfig: { maxOutputTokens: 600 } })).json()) as Body;
      expect(roomy.candidates[0]).toMatchObject({ content: { parts: [{ text: 'Mock reply to: second question' }] }, finishReason: 'STOP' });
      expect(roomy.usageMetadata['thoughtsTokenCount']).toBe(10);
    });
  });

  it("rejects the 'assistant' role, as the real API does", async () => {
    const server = await gemini();
    const res = await generate(server, { contents: [{ role: 'assistant', parts: [{ text: 'x' }] }] });
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ error: expect.objectContaining({ code: 400, status: 'INVALID_ARGUMENT', details: [] }) });
  });
});

describe('fault script', () => {
  it('serves scripted faults in order, then normal replies, in the provider error shape', async () => {
    const server = await gemini();
    const retryInfo = { '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: '3s' };
    expect(
      server.script([
        { status: 429, body: { error: { code: 429, message: 'quota', status: 'RESOURCE_EXHAUSTED', details: [retryInfo] } } },
        { status: 503, headers: { 'retry-after': '7' } },
      ]),
    ).toBe(2);
    const first = await generate(server, GENERATE);
    expect(first.status).toBe(429);
    expect(((await first.json()) as { error: { details: unknown[] } }).error.details).toEqual([retryInfo]);
    const second = await generate(server, GENERATE);
    expect(second.status).toBe(503);
    expect(second.headers.get('retry-after')).toBe('7');
    expect(await second.json()).toEqual({ error: expect.objectContaining({ code: 503, status: 'UNAVAILABLE' }) });
    expect((await generate(server, GENERATE)).status).toBe(200);
    expect(server.requests().map((r) => [r.outcome, r.scripted])).toEqual([
      [429, true],
      [503, true],
      [200, false],
    ]);
  });

  it('delays by delayMs, and a delay-only fault still answers normally', async () => {
    const server = await openai();
    server.script({ delayMs: 200 });
    const started = Date.now();
    const res = await chat(server, CHAT);
    expect(Date.now() - started).toBeGreaterThanOrEqual(190);
    expect(res.status).toBe(200);
  });

  it('keeps a hanging request open until close(), which still resolves', async () => {
    const server = await openai();
    server.script({ hang: true });
    const pending = chat(server, CHAT).then(
      () => 'answered',
      () => 'dropped',
    );
    await new Promise((r) => setTimeout(r, 100));
    expect(server.stats()).toMatchObject({ requests: 1, inFlight: 1, byOutcome: { hang: 1 } });
    await server.close();
    await expect(pending).resolves.toBe('dropped');
  });

  it('resets the connection on request', async () => {
    const server = await openai();
    server.script({ reset: true });
    // undici's TypeError comes from another realm than jest's, so compare by name.
    await expect(chat(server, CHAT)).rejects.toMatchObject({ name: 'TypeError' });
    expect(server.stats().byOutcome).toEqual({ reset: 1 });
  });
});

describe('control over HTTP', () => {
  it('exposes stats, config, script, requests and reset without counting control calls', async () => {
    const server = await openai({ requestLogSize: 2 });
    const control = mockLlmControl(server.url);
    await control.configure({ latency: { kind: 'fixed', ms: 150 } });
    expect((await control.config()).latency).toEqual({ kind: 'fixed', ms: 150 });
    const started = Date.now();
    await chat(server, CHAT);
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
    await control.configure({ latency: { kind: 'none' } });
    expect(await control.script([{ status: 500 }, { status: 400 }])).toBe(2);
    expect((await chat(server, CHAT)).status).toBe(500);
    await chat(server, { ...CHAT, model: 'gpt-y' });
    expect(await control.stats()).toEqual({
      provider: 'openai',
      requests: 3,
      inFlight: 0,
      byModel: { 'gpt-x': 2, 'gpt-y': 1 },
      byApiKey: { [apiKeyFingerprint('sk-one')]: 3 },
      byOutcome: { '200': 1, '500': 1, '400': 1 },
      byKind: { ok: 1, error: 2, rate_limited: 0, timeout: 0, refused: 0 },
      pendingFaults: 0,
    });
    // The log is bounded: only the last two requests remain.
    expect((await control.requests()).map((r) => r.seq)).toEqual([2, 3]);
    await control.reset();
    expect(await control.stats()).toMatchObject({ requests: 0, byModel: {}, pendingFaults: 0 });
    expect(await control.requests()).toEqual([]);
  });

  it('rejects bad control input with 400 and leaves the state alone', async () => {
    const server = await gemini();
    const control = mockLlmControl(server.url);
    await expect(control.configure({ latency: { kind: 'lognormal', medianMs: 100 } })).rejects.toThrow(/400/);
    await expect(control.script({ status: 42 })).rejects.toThrow(/400/);
    const raw = await fetch(`${server.url}/__mock/config`, { method: 'POST', body: '{"latencyMs": 5}' });
    expect(raw.status).toBe(400);
    expect(server.config().latency).toEqual({ kind: 'none' });
    expect(server.stats().pendingFaults).toBe(0);
  });

  it('answers unknown API routes with a 404 in the provider shape', async () => {
    const server = await openai();
    const res = await fetch(`${server.url}/v1/embeddings`, { method: 'POST', body: '{}' });
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ error: expect.objectContaining({ type: 'invalid_request_error' }) });
  });
});
