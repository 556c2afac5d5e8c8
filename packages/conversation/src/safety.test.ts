import type { ChatProvider, ChatRequest } from '@inner-talk/llm';
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

const isOutage = (error: unknown) => error instanceof OutageError;

describe('crisisCheck', () => {
  it('runs both layers with the given timeout', async () => {
    const m = model({ answer: 'LOW' });
    expect(await crisisCheck({ model: m, timeoutMs: 1234, isOutage }).assess('hello')).toEqual({ level: 'low', sources: ['classifier'] });
    expect(m.calls[0]?.timeoutMs).toBe(1234);
  });

  it('fails closed on a failure of the call itself', async () => {
    const check = crisisCheck({ model: model({ error: new Error('timeout') }), timeoutMs: 100, isOutage });
    expect(await check.assess('hello')).toEqual({ level: 'high', sources: ['classifier_error'] });
  });

  it('rethrows an outage of every provider, so the message waits instead of counting as risk', async () => {
    const check = crisisCheck({ model: model({ error: new OutageError() }), timeoutMs: 100, isOutage });
    await expect(check.assess('hello')).rejects.toBeInstanceOf(OutageError);
    await expect(check.assess("I can't go on like this")).rejects.toBeInstanceOf(OutageError);
  });

  it('answers a high phrase match at once, outage or not', async () => {
    const check = crisisCheck({ model: model({ error: new OutageError() }), timeoutMs: 100, isOutage });
    expect(await check.assess('I want to kill myself')).toEqual({ level: 'high', sources: ['phrases', 'classifier_error'] });
  });

  it('fails closed on an outage when no outage rule is given', async () => {
    const check = crisisCheck({ model: model({ error: new OutageError() }), timeoutMs: 100 });
    expect(await check.assess('hello')).toMatchObject({ level: 'high' });
  });
});
