import { startMockOpenAI, type MockLlmServer } from '../../mocks/src/llm';
import { ProviderError } from './errors';
import { OpenAIChatProvider } from './openai';
import type { ChatRequest } from './provider';

const REQUEST: ChatRequest = { system: 'S', turns: [{ role: 'user', text: 'hello' }], maxOutputTokens: 50, timeoutMs: 2000 };

async function failure(promise: Promise<unknown>): Promise<ProviderError> {
  const err: unknown = await promise.then(
    () => new Error('expected the call to fail'),
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ProviderError);
  return err as ProviderError;
}

function completion(message: Record<string, unknown>, finishReason: string) {
  return {
    id: 'x',
    object: 'chat.completion',
    created: 0,
    model: 'gpt-test-2025',
    choices: [{ index: 0, message: { role: 'assistant', ...message }, finish_reason: finishReason }],
  };
}

describe('OpenAIChatProvider specifics', () => {
  let server: MockLlmServer;
  beforeEach(async () => {
    server = await startMockOpenAI();
  });
  afterEach(() => server.close());

  it('works as a named OpenAI-compatible provider that takes max_tokens', async () => {
    const compat = new OpenAIChatProvider({ apiKey: 'k', model: 'llama', baseURL: server.sdkBaseUrl, name: 'local-llm', maxTokensField: 'max_tokens' });
    const result = await compat.complete(REQUEST);
    expect(result.provider).toBe('local-llm');
    expect(server.requests()[0]?.body).toMatchObject({ model: 'llama', max_tokens: 50 });
    expect(server.requests()[0]?.body).not.toHaveProperty('max_completion_tokens');
    server.script({ status: 500 });
    expect(await failure(compat.complete(REQUEST))).toMatchObject({ provider: 'local-llm', kind: 'server' });
  });

  it('sends max_completion_tokens by default and the system message first', async () => {
    await new OpenAIChatProvider({ apiKey: 'k', model: 'gpt-test', baseURL: server.sdkBaseUrl }).complete(REQUEST);
    expect(server.requests()[0]?.body).toEqual({
      model: 'gpt-test',
      messages: [
        { role: 'system', content: 'S' },
        { role: 'user', content: 'hello' },
      ],
      max_completion_tokens: 50,
    });
  });

  it('reports the model the provider says answered and treats missing usage as 0', async () => {
    server.script({ status: 200, body: completion({ content: 'Hi.' }, 'stop') });
    const result = await new OpenAIChatProvider({ apiKey: 'k', model: 'gpt-test', baseURL: server.sdkBaseUrl }).complete(REQUEST);
    expect(result).toMatchObject({ text: 'Hi.', model: 'gpt-test-2025' });
    expect(result.usage).toEqual({ inputTokens: 0, cachedInputTokens: 0, outputTokens: 0, reasoningTokens: 0 });
  });

  it('does not send a thinking budget (Chat Completions has none)', async () => {
    const provider = new OpenAIChatProvider({ apiKey: 'k', model: 'gpt-test', baseURL: server.sdkBaseUrl });
    await provider.complete({ ...REQUEST, thinkingBudget: 0, maxOutputTokens: 16 });
    const body = server.requests()[0]!.body as Record<string, unknown>;
    expect(Object.keys(body).sort()).toEqual(['max_completion_tokens', 'messages', 'model']);
  });

  it('treats a refusal or content filter as refused and an empty reply as server', async () => {
    const provider = new OpenAIChatProvider({ apiKey: 'k', model: 'gpt-test', baseURL: server.sdkBaseUrl });
    server.script([
      { status: 200, body: completion({ content: null, refusal: 'I cannot help with that.' }, 'stop') },
      { status: 200, body: completion({ content: null }, 'content_filter') },
      { status: 200, body: completion({ content: '' }, 'stop') },
    ]);
    expect((await failure(provider.complete(REQUEST))).kind).toBe('refused');
    expect((await failure(provider.complete(REQUEST))).kind).toBe('refused');
    expect((await failure(provider.complete(REQUEST))).kind).toBe('server');
  });
});
