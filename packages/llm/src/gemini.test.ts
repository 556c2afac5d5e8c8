import { startMockGemini, type MockLlmServer } from '../../mocks/src/llm';
import { ProviderError } from './errors';
import { GeminiChatProvider } from './gemini';
import type { ChatRequest } from './provider';

const REQUEST: ChatRequest = { system: 'S', turns: [{ role: 'user', text: 'hello' }], timeoutMs: 2000 };
const RETRY_INFO = { '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: '3s' };

function quotaBody(retryDelay: string) {
  return {
    error: {
      code: 429,
      message: 'Resource has been exhausted (e.g. check quota).',
      status: 'RESOURCE_EXHAUSTED',
      details: [{ '@type': 'type.googleapis.com/google.rpc.QuotaFailure', violations: [] }, { ...RETRY_INFO, retryDelay }],
    },
  };
}

async function failure(promise: Promise<unknown>): Promise<ProviderError> {
  const err: unknown = await promise.then(
    () => new Error('expected the call to fail'),
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ProviderError);
  return err as ProviderError;
}

describe('GeminiChatProvider specifics', () => {
  let server: MockLlmServer;
  let provider: GeminiChatProvider;
  beforeEach(async () => {
    server = await startMockGemini();
    provider = new GeminiChatProvider({ apiKey: 'g-test', model: 'gemini-test', baseUrl: server.sdkBaseUrl });
  });
  afterEach(() => server.close());

  it('calls the SDK default API version path, or the one configured', async () => {
    await provider.complete(REQUEST);
    await new GeminiChatProvider({ apiKey: 'g', model: 'gemini-test', baseUrl: server.sdkBaseUrl, apiVersion: 'v1beta' }).complete(REQUEST);
    expect(server.requests().map((r) => r.path)).toEqual([
      '/v1/models/gemini-test:generateContent',
      '/v1beta/models/gemini-test:generateContent',
    ]);
  });

  it.each([
    ['3s', 3000],
    ['1.500s', 1500],
  ])('takes retryAfterMs from RetryInfo.retryDelay %s in the 429 body', async (delay, expected) => {
    server.script({ status: 429, body: quotaBody(delay) });
    const err = await failure(provider.complete(REQUEST));
    expect(err).toMatchObject({ kind: 'rate_limited', status: 429, retryAfterMs: expected });
  });

  it('prefers a retry-after header over RetryInfo', async () => {
    server.script({ status: 429, body: quotaBody('3s'), headers: { 'retry-after': '10' } });
    expect((await failure(provider.complete(REQUEST))).retryAfterMs).toBe(10000);
  });

  it('maps a 400 without ErrorInfo API_KEY_INVALID to bad_request, with it to auth', async () => {
    server.script([
      { status: 400, body: { error: { code: 400, message: 'bad', status: 'INVALID_ARGUMENT', details: [] } } },
      {
        status: 400,
        body: {
          error: {
            code: 400,
            message: 'whatever the wording',
            status: 'INVALID_ARGUMENT',
            details: [{ '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason: 'API_KEY_INVALID', domain: 'googleapis.com' }],
          },
        },
      },
    ]);
    expect((await failure(provider.complete(REQUEST))).kind).toBe('bad_request');
    expect((await failure(provider.complete(REQUEST))).kind).toBe('auth');
  });

  it('maps a non-JSON 502 from a proxy to server', async () => {
    server.script({ status: 502, body: '<html>bad gateway</html>', headers: { 'content-type': 'text/html' } });
    expect(await failure(provider.complete(REQUEST))).toMatchObject({ kind: 'server', status: 502 });
  });

  it('treats a blocked prompt or a safety finish as refused, and an empty candidate or a limit used up by thinking as server', async () => {
    server.script([
      { status: 200, body: { promptFeedback: { blockReason: 'SAFETY' }, usageMetadata: { promptTokenCount: 3 } } },
      { status: 200, body: { candidates: [{ content: { role: 'model' }, finishReason: 'PROHIBITED_CONTENT' }] } },
      { status: 200, body: { candidates: [{ content: { role: 'model', parts: [] }, finishReason: 'STOP' }] } },
      { status: 200, body: { candidates: [{ content: { role: 'model' }, finishReason: 'MAX_TOKENS' }], usageMetadata: { thoughtsTokenCount: 5 } } },
    ]);
    expect((await failure(provider.complete(REQUEST))).kind).toBe('refused');
    expect((await failure(provider.complete(REQUEST))).kind).toBe('refused');
    expect((await failure(provider.complete(REQUEST))).kind).toBe('server');
    expect((await failure(provider.complete(REQUEST))).kind).toBe('server');
  });

  it('sends thinkingConfig.thinkingBudget only when the request sets a budget', async () => {
    await provider.complete({ ...REQUEST, thinkingBudget: 0, maxOutputTokens: 16 });
    await provider.complete(REQUEST);
    const [withBudget, without] = server.requests().map((r) => (r.body as { generationConfig?: Record<string, unknown> }).generationConfig);
    expect(withBudget).toMatchObject({ thinkingConfig: { thinkingBudget: 0 }, maxOutputTokens: 16 });
    expect(without?.['thinkingConfig']).toBeUndefined();
  });

  it('leaves thought parts out of the text and treats missing usage as 0', async () => {
    server.script({
      status: 200,
      body: {
        candidates: [{ content: { role: 'model', parts: [{ text: 'thinking…', thought: true }, { text: 'Answer.' }] }, finishReason: 'STOP' }],
      },
    });
    const result = await provider.complete(REQUEST);
    expect(result.text).toBe('Answer.');
    expect(result.usage).toEqual({ inputTokens: 0, cachedInputTokens: 0, outputTokens: 0, reasoningTokens: 0 });
    expect(result.model).toBe('gemini-test');
  });
});
