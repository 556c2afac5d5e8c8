import { Redis } from 'ioredis';
import { createGatewayState, parseGatewayEnv, type GatewayState } from '@inner-talk/gateway';
import { ClusterMetricsWriter, METRICS, readCounter } from '@inner-talk/telemetry';
import { serviceUrls, uniquePrefix } from '@inner-talk/testkit';
import { countLimiterRejections } from './llm';

describe('worker LLM metrics: limiter rejections', () => {
  let redis: Redis;
  let state: GatewayState | undefined;
  const prefix = uniquePrefix('limrej');

  beforeAll(() => {
    redis = new Redis(serviceUrls().redisUrl);
  });
  afterAll(async () => {
    await state?.close();
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length) await redis.del(...keys);
    await redis.quit();
  });

  it('counts each refusal of the shared limiter by provider and reason, and passes every answer through', async () => {
    const config = parseGatewayEnv({ LLM_CHAIN: 'gemini', LLM_GEMINI_KEYS: 'proj-a:limiter-test-key' });
    state = await createGatewayState({ redisUrl: serviceUrls().redisUrl, prefix, config });
    countLimiterRejections(state.limiter, new ClusterMetricsWriter(redis, prefix));
    const scope = 'gemini|proj-a|some-model';
    const first = await state.limiter.tryAcquire(scope, { rpm: 1 });
    const second = await state.limiter.tryAcquire(scope, { rpm: 1 });
    const tokens = [
      await state.limiter.tryAcquire('gemini|proj-b|some-model', { tpm: 100, estimatedTokens: 80 }),
      await state.limiter.tryAcquire('gemini|proj-b|some-model', { tpm: 100, estimatedTokens: 80 }),
    ];
    expect([first.ok, second.ok, ...tokens.map((t) => t.ok)]).toEqual([true, false, true, false]);
    expect(second).toMatchObject({ reason: 'rpm' });
    expect(tokens[1]).toMatchObject({ reason: 'tpm' });

    let counts: Awaited<ReturnType<typeof readCounter>> = [];
    for (let i = 0; i < 40 && counts.length < 2; i++) {
      await new Promise((resolve) => setTimeout(resolve, 25));
      counts = await readCounter(redis, prefix, METRICS.llmLimiterRejections);
    }
    expect(counts).toEqual(
      expect.arrayContaining([
        { labels: { provider: 'gemini', reason: 'rpm' }, value: 1 },
        { labels: { provider: 'gemini', reason: 'tpm' }, value: 1 },
      ]),
    );
    expect(counts).toHaveLength(2);
  });
});
