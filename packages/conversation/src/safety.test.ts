import { ProviderError, type ChatProvider, type ChatRequest } from '@inner-talk/llm';
import { SafetyCheckUnavailableError } from './errors';
import { crisisCheck } from './safety';

class OutageError extends Error {
  override readonly name = 'OutageError';
}

/** A model that answers the classifier with `answer`, or throws `error`. */
function model(behaviour: { answer?: string; error?: Error }): ChatProvider & { calls: ChatRequest[] } {
  const calls: ChatRequest[] = [];
  return {
    name: 'fake',
    model: 'fake-1',
    calls,
    async complete(request) {
      calls.push(request);
      if (behaviour.error) throw behaviour.error;
      return { text: behaviour.answer ?? 'NONE', usage: { inputTokens: 1, cachedInputTokens: 0, outputTokens: 1, reasoningTokens: 0 }, provider: 'fake', model: 'fake-1', latencyMs: 1 };
    },
  };
}

const retryAtOf = (error: unknown) => (error instanceof OutageError ? 4242 : null);

describe('crisisCheck', () => {
  it('runs both layers with the given timeout, thinking off', async () => {
    const m = model({ answer: 'LOW' });
    expect(await crisisCheck({ model: m, timeoutMs: 1234, retryAtOf }).assess('hello')).toEqual({ level: 'low', sources: ['classifier'] });
    expect(m.calls[0]).toMatchObject({ timeoutMs: 1234, thinkingBudget: 0 });
  });

  it('says the check could not run when the classifier call fails, instead of reading it as risk', async () => {
    const cause = new Error('timeout');
    const check = crisisCheck({ model: model({ error: cause }), timeoutMs: 100, retryAtOf });
    const error: unknown = await check.assess('hello').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SafetyCheckUnavailableError);
    expect(error).toMatchObject({ retryAt: null, cause });
  });

  it('passes on when every provider can be asked again', async () => {
    const check = crisisCheck({ model: model({ error: new OutageError() }), timeoutMs: 100, retryAtOf });
    await expect(check.assess('hello')).rejects.toMatchObject({ name: 'SafetyCheckUnavailableError', retryAt: 4242 });
    await expect(check.assess("I can't go on like this")).rejects.toBeInstanceOf(SafetyCheckUnavailableError);
  });

  it('fails closed at once on an unreadable answer or a refusal: asking again would only repeat it', async () => {
    const unreadable = crisisCheck({ model: model({ answer: 'Sorry, I cannot help with that.' }), timeoutMs: 100 });
    expect(await unreadable.assess('hello')).toEqual({ level: 'high', sources: ['classifier_error'] });
    const refusing = crisisCheck({ model: model({ error: new ProviderError('fake', 'refused', 'declined') }), timeoutMs: 100 });
    expect(await refusing.assess('hello')).toEqual({ level: 'high', sources: ['classifier_error'] });
  });

  it('says the check could not run when the provider fails for a passing reason', async () => {
    const check = crisisCheck({ model: model({ error: new ProviderError('fake', 'server', 'HTTP 500') }), timeoutMs: 100 });
    await expect(check.assess('hello')).rejects.toBeInstanceOf(SafetyCheckUnavailableError);
  });

  it('answers a high phrase match at once, without the model', async () => {
    const m = model({ error: new OutageError() });
    expect(await crisisCheck({ model: m, timeoutMs: 100, retryAtOf }).assess('I want to kill myself')).toEqual({ level: 'high', sources: ['phrases'] });
    expect(m.calls).toHaveLength(0);
  });
});
