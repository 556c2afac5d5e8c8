import { ProviderError } from '@inner-talk/llm';
import { startMockGemini, startMockOpenAI, type MockLlmServer } from '@inner-talk/mocks';
import type { BreakerTransition } from '@inner-talk/gateway-state';
import { serviceUrls, uniquePrefix } from '@inner-talk/testkit';
import { AllProvidersUnavailableError, createGatewayState, LlmGateway, parseGatewayEnv, type CallRecord, type GatewayState } from './index';

const request = (text: string) => ({ system: 'be kind', turns: [{ role: 'user' as const, text }], timeoutMs: 5000, maxOutputTokens: 100 });

describe('LlmGateway with real SDKs, mock providers and Redis-shared state', () => {
  let gemini: MockLlmServer;
  let openai: MockLlmServer;
  let state: GatewayState;
  let gateway: LlmGateway;
  let calls: CallRecord[];
  let prefix: string;

  beforeAll(async () => {
    gemini = await startMockGemini();
    openai = await startMockOpenAI();
  });
  afterAll(async () => {
    await gemini.close();
    await openai.close();
  });

  async function build(extra: Record<string, string> = {}) {
    prefix = uniquePrefix('gw');
    const config = parseGatewayEnv({
      LLM_GEMINI_KEYS: 'proj-a:gk-1,proj-b:gk-2',
      LLM_GEMINI_BASE_URL: gemini.sdkBaseUrl,
      LLM_GEMINI_PRICE_INPUT: '0.30',
      LLM_GEMINI_PRICE_OUTPUT: '2.50',
      LLM_OPENAI_KEYS: 'ok-1',
      LLM_OPENAI_BASE_URL: openai.sdkBaseUrl,
      LLM_BREAKER_OPEN_MS: '400',
      ...extra,
    });
    state = await createGatewayState({ redisUrl: serviceUrls().redisUrl, prefix, config });
    calls = [];
    gateway = new LlmGateway({ config, ...state, observer: { onCall: (c) => calls.push(c) } });
  }

  beforeEach(async () => {
    gemini.reset();
    openai.reset();
    await build();
  });
  afterEach(async () => {
    const keys = await state.redis.keys(`${prefix}:*`);
    if (keys.length) await state.redis.del(...keys);
    await state.close();
  });

  it('answers from the primary and accounts tokens and cost', async () => {
    const result = await gateway.complete(request('hello'));
    expect(result.provider).toBe('gemini');
    expect(result.text).toBe('Mock reply to: hello');
    expect(openai.stats().requests).toBe(0);
    expect(calls).toHaveLength(1);
    const [call] = calls;
    expect(call).toMatchObject({ provider: 'gemini', outcome: 'ok', chainIndex: 0 });
    const u = call!.usage!;
    expect(call!.costUsd).toBeCloseTo((u.inputTokens * 0.3 + (u.outputTokens + u.reasoningTokens) * 2.5) / 1e6, 12);
  });

  it('opens after exactly 3 provider failures, then goes straight to the fallback, then one probe closes it', async () => {
    gemini.script([{ status: 503 }, { status: 503 }, { status: 503 }, { status: 503 }]);
    for (let i = 0; i < 3; i++) expect((await gateway.complete(request(`m${i}`))).provider).toBe('openai');
    expect(gemini.stats().requests).toBe(3);
    for (let i = 0; i < 5; i++) expect((await gateway.complete(request(`n${i}`))).provider).toBe('openai');
    expect(gemini.stats().requests).toBe(3); // open: no call reached the primary

    gemini.reset(); // recovered (the fourth scripted fault is dropped)
    await new Promise((resolve) => setTimeout(resolve, 450));
    const probes = await Promise.all(Array.from({ length: 6 }, (_, i) => gateway.complete(request(`p${i}`))));
    expect(gemini.stats().requests).toBe(1); // exactly one half-open probe
    expect(probes.filter((r) => r.provider === 'gemini')).toHaveLength(1);
    expect((await gateway.complete(request('after'))).provider).toBe('gemini'); // closed again
  });

  it('gives the half-open probe a lease of the provider timeout plus a margin, so no second probe starts while it runs', async () => {
    await state.close();
    prefix = uniquePrefix('gw');
    const transitions: BreakerTransition[] = [];
    const config = parseGatewayEnv({ LLM_GEMINI_KEYS: 'gk-1', LLM_GEMINI_BASE_URL: gemini.sdkBaseUrl, LLM_GEMINI_TIMEOUT_MS: '7000', LLM_OPENAI_KEYS: 'ok-1', LLM_OPENAI_BASE_URL: openai.sdkBaseUrl, LLM_BREAKER_OPEN_MS: '400' });
    state = await createGatewayState({ redisUrl: serviceUrls().redisUrl, prefix, config, onTransition: (t) => transitions.push(t) });
    gateway = new LlmGateway({ config, ...state });
    gemini.script([{ status: 503 }, { status: 503 }, { status: 503 }]);
    for (let i = 0; i < 3; i++) expect((await gateway.complete(request(`l${i}`))).provider).toBe('openai');
    await new Promise((resolve) => setTimeout(resolve, 450));
    expect((await gateway.complete(request('probe'))).provider).toBe('gemini');
    const granted = transitions.find((t) => t.reason === 'probe_granted');
    expect(granted!.leaseUntil - granted!.at).toBe(7_000 + 5_000);
    expect(transitions.map((t) => t.to)).toEqual(['open', 'half_open', 'closed']);
  });

  it('cools a rate-limited key for Retry-After and uses the other key of the provider', async () => {
    gemini.script({ status: 429, headers: { 'retry-after-ms': '5000' } });
    const result = await gateway.complete(request('busy'));
    expect(result.provider).toBe('gemini');
    expect(gemini.stats().requests).toBe(2);
    const cooled = calls.find((c) => c.outcome === 'rate_limited')!.keyId;
    const { active } = await state.cooldowns.cooldowns([cooled]);
    expect(active.get(cooled)!.untilMs - Date.now()).toBeGreaterThan(4000);
    // Next calls avoid the cooled key.
    for (let i = 0; i < 4; i++) await gateway.complete(request(`q${i}`));
    expect(calls.slice(2).every((c) => c.keyId !== cooled)).toBe(true);
  });

  it('throws a bad request at once without trying the fallback', async () => {
    gemini.script({ status: 400, body: { error: { code: 400, message: 'bad', status: 'INVALID_ARGUMENT' } } });
    const failure = gateway.complete(request('x'));
    await expect(failure).rejects.toBeInstanceOf(ProviderError);
    await expect(failure).rejects.toMatchObject({ kind: 'bad_request' });
    expect(openai.stats().requests).toBe(0);
  });

  it('throws a refusal at once: no other provider is asked to get around it, and it does not count against the provider', async () => {
    const blocked = { status: 200, body: { promptFeedback: { blockReason: 'SAFETY' } } };
    gemini.script(Array.from({ length: 4 }, () => blocked));
    for (let i = 0; i < 4; i++) await expect(gateway.complete(request(`r${i}`))).rejects.toMatchObject({ name: 'ProviderError', kind: 'refused' });
    expect(openai.stats().requests).toBe(0);
    expect(calls.map((c) => c.outcome)).toEqual(['refused', 'refused', 'refused', 'refused']);
    // More refusals than the breaker's failure threshold, and the breaker is still closed.
    expect((await gateway.complete(request('after'))).provider).toBe('gemini');
  });

  it('says when to come back when every provider is down', async () => {
    gemini.script(Array.from({ length: 3 }, () => ({ status: 500 })));
    openai.script(Array.from({ length: 3 }, () => ({ status: 500 })));
    const errors: unknown[] = [];
    for (let i = 0; i < 3; i++) errors.push(await gateway.complete(request(`d${i}`)).catch((e: unknown) => e));
    const last = errors.at(-1);
    expect(last).toBeInstanceOf(AllProvidersUnavailableError);
    const wait = (last as AllProvidersUnavailableError).retryAt - Date.now();
    expect(wait).toBeGreaterThan(0);
    expect(wait).toBeLessThanOrEqual(450); // the breakers' open period
    const fast = Date.now();
    await expect(gateway.complete(request('again'))).rejects.toBeInstanceOf(AllProvidersUnavailableError);
    expect(Date.now() - fast).toBeLessThan(100); // open breakers: no call made
  });

  it('keeps every request of a key within its RPM', async () => {
    await state.close();
    await build({ LLM_CHAIN: 'gemini', LLM_GEMINI_KEYS: 'gk-1', LLM_GEMINI_RPM: '3' });
    const results = await Promise.allSettled(Array.from({ length: 6 }, (_, i) => gateway.complete(request(`r${i}`))));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(3);
    const refused = results.filter((r) => r.status === 'rejected').map((r) => (r as PromiseRejectedResult).reason);
    expect(refused.every((e) => e instanceof AllProvidersUnavailableError)).toBe(true);
    expect(gemini.stats().requests).toBe(3);
  });
});

describe('parseGatewayEnv', () => {
  it('builds the chain with keys, scopes, prices and defaults', () => {
    const config = parseGatewayEnv({ LLM_CHAIN: 'gemini,local', LLM_GEMINI_KEYS: 'p1:a,b', LLM_LOCAL_API: 'openai', LLM_LOCAL_KEYS: 'x', LLM_LOCAL_MODEL: 'llama', LLM_LOCAL_BASE_URL: 'http://127.0.0.1:8000/v1' });
    expect(config.chain.map((r) => [r.name, r.api, r.model])).toEqual([
      ['gemini', 'gemini', 'gemini-2.5-flash'],
      ['local', 'openai', 'llama'],
    ]);
    expect(config.chain[0]!.keys).toEqual([
      { id: 'gemini#1', scope: 'p1', apiKey: 'a' },
      { id: 'gemini#2', scope: 'gemini#2', apiKey: 'b' },
    ]);
    expect(config.breaker).toMatchObject({ failureThreshold: 3, openMs: 30_000 });
  });

  it('builds an optional light chain for simple messages from providers configured the same way', () => {
    expect(parseGatewayEnv({ LLM_GEMINI_KEYS: 'a', LLM_OPENAI_KEYS: 'b' }).lightChain).toEqual([]);
    const config = parseGatewayEnv({ LLM_CHAIN: 'gemini', LLM_LIGHT_CHAIN: 'gemini_lite,gemini', LLM_GEMINI_KEYS: 'p1:a', LLM_GEMINI_LITE_API: 'gemini', LLM_GEMINI_LITE_KEYS: 'p1:a', LLM_GEMINI_LITE_MODEL: 'gemini-2.5-flash-lite', LLM_GEMINI_LITE_PRICE_INPUT: '0.10' });
    expect(config.chain.map((r) => r.name)).toEqual(['gemini']);
    expect(config.lightChain.map((r) => [r.name, r.model, r.price.inputPerM])).toEqual([
      ['gemini_lite', 'gemini-2.5-flash-lite', 0.1],
      ['gemini', 'gemini-2.5-flash', 0],
    ]);
    expect(() => parseGatewayEnv({ LLM_GEMINI_KEYS: 'a', LLM_OPENAI_KEYS: 'b', LLM_LIGHT_CHAIN: 'cheap' })).toThrow(expect.objectContaining({ problems: expect.arrayContaining(['LLM_CHEAP_KEYS: is required but not set']) }));
  });

  it('names missing keys and unknown dialects without echoing values', () => {
    expect(() => parseGatewayEnv({ LLM_CHAIN: 'gemini,local', LLM_LOCAL_KEYS: 'secret-value' })).toThrow(
      expect.objectContaining({ problems: ['LLM_GEMINI_KEYS: is required but not set', 'LLM_LOCAL_API: is required but not set', 'LLM_LOCAL_MODEL: is required but not set'] }),
    );
  });
});
