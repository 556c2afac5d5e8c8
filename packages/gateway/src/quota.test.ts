import { GeminiChatProvider, OpenAIChatProvider, ProviderError } from '@inner-talk/llm';
import { startMockGemini, startMockOpenAI, type MockLlmServer } from '@inner-talk/mocks';
import { cooldownEnd, nextMidnightIn } from './index';

describe('nextMidnightIn', () => {
  it('finds the next local midnight in Los Angeles, across both DST changes', () => {
    // 2026-07-01 10:00 PDT (UTC-7) → 2026-07-02 00:00 PDT = 07:00Z
    expect(new Date(nextMidnightIn('America/Los_Angeles', Date.parse('2026-07-01T17:00:00Z'))).toISOString()).toBe('2026-07-02T07:00:00.000Z');
    // 2026-12-01 23:59:59 PST (UTC-8) → 2026-12-02 00:00 PST = 08:00Z
    expect(new Date(nextMidnightIn('America/Los_Angeles', Date.parse('2026-12-02T07:59:59Z'))).toISOString()).toBe('2026-12-02T08:00:00.000Z');
    // Day of the spring change (23 h long): 2026-03-08 12:00 PDT → 2026-03-09 00:00 PDT = 07:00Z
    expect(new Date(nextMidnightIn('America/Los_Angeles', Date.parse('2026-03-08T19:00:00Z'))).toISOString()).toBe('2026-03-09T07:00:00.000Z');
    // Day of the autumn change (25 h long): 2026-11-01 12:00 PST → 2026-11-02 00:00 PST = 08:00Z
    expect(new Date(nextMidnightIn('America/Los_Angeles', Date.parse('2026-11-01T20:00:00Z'))).toISOString()).toBe('2026-11-02T08:00:00.000Z');
  });
});

describe('quota errors from the real SDKs decide the cooldown', () => {
  let gemini: MockLlmServer;
  let openai: MockLlmServer;
  beforeAll(async () => {
    gemini = await startMockGemini();
    openai = await startMockOpenAI();
  });
  afterAll(async () => {
    await gemini.close();
    await openai.close();
  });
  const req = { system: 's', turns: [{ role: 'user' as const, text: 'x' }], timeoutMs: 3000 };

  async function failure(call: Promise<unknown>): Promise<ProviderError> {
    const error = await call.then(
      () => undefined,
      (e: unknown) => e,
    );
    if (!(error instanceof ProviderError)) throw new Error('expected a ProviderError');
    return error;
  }

  it('Gemini per-day QuotaFailure cools the key until midnight Pacific', async () => {
    gemini.script({
      status: 429,
      body: {
        error: {
          code: 429,
          message: 'You exceeded your current quota',
          status: 'RESOURCE_EXHAUSTED',
          details: [
            { '@type': 'type.googleapis.com/google.rpc.QuotaFailure', violations: [{ quotaMetric: 'generativelanguage.googleapis.com/generate_content_free_tier_requests', quotaId: 'GenerateRequestsPerDayPerProjectPerModel-FreeTier' }] },
            { '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: '20s' },
          ],
        },
      },
    });
    const error = await failure(new GeminiChatProvider({ apiKey: 'k', model: 'gemini-2.5-flash', baseUrl: gemini.sdkBaseUrl }).complete(req));
    expect(error).toMatchObject({ kind: 'rate_limited', exhaustedQuota: 'day', retryAfterMs: 20_000 });
    const now = Date.parse('2026-07-01T17:00:00Z');
    expect(cooldownEnd(error, now)).toBe(Date.parse('2026-07-02T07:00:00Z'));
  });

  it('Gemini per-minute quota uses RetryInfo', async () => {
    gemini.script({
      status: 429,
      body: { error: { code: 429, message: 'quota', status: 'RESOURCE_EXHAUSTED', details: [{ '@type': 'type.googleapis.com/google.rpc.QuotaFailure', violations: [{ quotaId: 'GenerateRequestsPerMinutePerProjectPerModel' }] }, { '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: '7s' }] } },
    });
    const error = await failure(new GeminiChatProvider({ apiKey: 'k', model: 'm', baseUrl: gemini.sdkBaseUrl }).complete(req));
    expect(error.exhaustedQuota).toBeUndefined();
    expect(cooldownEnd(error, 1_000)).toBe(8_000);
  });

  it('OpenAI insufficient_quota cools the key for an hour', async () => {
    openai.script({ status: 429, body: { error: { message: 'You exceeded your current quota', type: 'insufficient_quota', param: null, code: 'insufficient_quota' } } });
    const error = await failure(new OpenAIChatProvider({ apiKey: 'k', model: 'm', baseURL: openai.sdkBaseUrl }).complete(req));
    expect(error).toMatchObject({ kind: 'rate_limited', exhaustedQuota: 'billing' });
    expect(cooldownEnd(error, 0)).toBe(3_600_000);
  });
});
