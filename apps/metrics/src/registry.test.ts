import { Queue, UnrecoverableError, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { CircuitBreaker, Cooldowns, cooldownsKey, createGatewayRedis, waitForRedis } from '@inner-talk/gateway-state';
import { ChatInbox, QUEUE_NAMES } from '@inner-talk/queue';
import { ClusterMetricsWriter, METRICS } from '@inner-talk/telemetry';
import { serviceUrls, uniquePrefix, waitFor } from '@inner-talk/testkit';
import { Vault } from '@inner-talk/vault';
import { buildRegistry } from './registry';

function value(text: string, series: string): number | undefined {
  const found = text.split('\n').find((l) => l.startsWith(`${series} `));
  return found === undefined ? undefined : Number(found.slice(series.length + 1));
}

describe('metrics registry: cluster state read at scrape time', () => {
  let redis: Redis;
  let gatewayRedis: Redis;
  let prefix: string;
  let built: ReturnType<typeof buildRegistry> | undefined;
  const scrape = () => built!.registry.metrics();

  beforeAll(async () => {
    redis = new Redis(serviceUrls().redisUrl, { maxRetriesPerRequest: null });
    gatewayRedis = createGatewayRedis(serviceUrls().redisUrl);
    expect(await waitForRedis(gatewayRedis)).toBe(true);
  });
  beforeEach(() => {
    prefix = uniquePrefix('mreg');
    built = buildRegistry(redis, prefix);
  });
  afterEach(async () => {
    await built?.close();
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length) await redis.del(...keys);
  });
  afterAll(async () => {
    gatewayRedis.disconnect();
    await redis.quit();
  });

  it('reports breaker state per provider from the shared breaker hashes: 0 closed, 1 half-open or open period over, 2 open', async () => {
    const breaker = new CircuitBreaker({ redis: gatewayRedis, prefix, config: { failureThreshold: 3, errorRate: { threshold: 0.5, minCalls: 100, windowMs: 60_000 } } });
    expect(await scrape()).not.toContain('innertalk_llm_breaker_state{');
    await breaker.forceOpen('provider:gemini', 60_000);
    await breaker.forceOpen('provider:openai', 1);
    await breaker.onFailure('provider:local'); // closed, one failure: a state hash and a window hash exist
    await breaker.forceOpen('key:gemini#1', 60_000); // not a provider breaker: not reported
    await new Promise((resolve) => setTimeout(resolve, 20));
    // half_open proper: the open period of a fresh breaker ended and a caller took the probe.
    await breaker.forceOpen('provider:probed', 1);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect((await breaker.acquire('provider:probed')).decision).toBe('probe');

    const text = await scrape();
    expect(value(text, 'innertalk_llm_breaker_state{provider="gemini"}')).toBe(2);
    expect(value(text, 'innertalk_llm_breaker_state{provider="openai"}')).toBe(1);
    expect(value(text, 'innertalk_llm_breaker_state{provider="probed"}')).toBe(1);
    expect(value(text, 'innertalk_llm_breaker_state{provider="local"}')).toBe(0);
    expect(text.match(/^innertalk_llm_breaker_state\{/gm)).toHaveLength(4);

    // A breaker whose state expired disappears instead of keeping its last value.
    await redis.del(`${prefix}:br:{provider:gemini}`);
    expect(value(await scrape(), 'innertalk_llm_breaker_state{provider="gemini"}')).toBeUndefined();
  });

  it('counts keys cooling down now by provider and reason, not ended ones', async () => {
    const cooldowns = new Cooldowns({ redis: gatewayRedis, prefix });
    await cooldowns.setCooldownFor('gemini#1', 60_000, 'rate_limited');
    await cooldowns.setCooldownFor('gemini#2', 60_000, 'rate_limited');
    await cooldowns.setCooldownFor('gemini#3', 60_000, 'auth');
    await cooldowns.setCooldownFor('openai#1', 60_000, 'daily_quota');
    // Ended but not yet pruned by the gateway.
    await redis.hset(cooldownsKey(prefix), 'openai#2', `${Date.now() - 5_000}|rate_limited`);

    const text = await scrape();
    expect(value(text, 'innertalk_llm_key_cooldowns{provider="gemini",reason="rate_limited"}')).toBe(2);
    expect(value(text, 'innertalk_llm_key_cooldowns{provider="gemini",reason="auth"}')).toBe(1);
    expect(value(text, 'innertalk_llm_key_cooldowns{provider="openai",reason="daily_quota"}')).toBe(1);
    expect(value(text, 'innertalk_llm_key_cooldowns{provider="openai",reason="rate_limited"}')).toBeUndefined();
  });

  it('reports live workers and dead letters of the updates queue', async () => {
    const queueLabel = `{queue="${QUEUE_NAMES.updates}"}`;
    let text = await scrape();
    expect(value(text, `innertalk_workers_active${queueLabel}`)).toBe(0);
    expect(value(text, `innertalk_queue_dead_letters${queueLabel}`)).toBe(0);

    const connection = { url: serviceUrls().redisUrl };
    const workers = [1, 2].map(
      () =>
        new Worker(
          QUEUE_NAMES.updates,
          async () => {
            throw new UnrecoverableError('bad job');
          },
          { connection, prefix },
        ),
    );
    const queue = new Queue(QUEUE_NAMES.updates, { connection, prefix });
    try {
      await Promise.all(workers.map((w) => w.waitUntilReady()));
      await waitFor(async () => value(await scrape(), `innertalk_workers_active${queueLabel}`) === 2, { message: 'two workers counted' });
      await queue.add('update', { nope: true }, { attempts: 5 });
      await queue.add('update', { nope: true }, { attempts: 5 });
      await waitFor(async () => value(await scrape(), `innertalk_queue_dead_letters${queueLabel}`) === 2, { message: 'two dead letters' });
      text = await scrape();
      expect(value(text, `innertalk_queue_jobs{queue="${QUEUE_NAMES.updates}",state="failed"}`)).toBe(2);
      // Updates a chat drain gave up on count too (and only those of the last 7 days).
      const inbox = new ChatInbox(redis, prefix, Vault.withRandomKey());
      await inbox.deadLetter({ chat: '1', updateIds: [10, 11], error: { type: 'Error' }, attempts: 4, at: Date.now() });
      await inbox.deadLetter({ chat: '2', updateIds: [12], error: { type: 'Error' }, attempts: 4, at: Date.now() - 8 * 86_400_000 });
      expect(value(await scrape(), `innertalk_queue_dead_letters${queueLabel}`)).toBe(3);
      await workers[0]!.close();
      await waitFor(async () => value(await scrape(), `innertalk_workers_active${queueLabel}`) === 1, { message: 'one worker left' });
    } finally {
      await Promise.all(workers.map((w) => w.close()));
      await queue.close();
    }
  });

  it('serves the workers\' histograms with their recent-window quantiles and the limiter counter', async () => {
    const writer = new ClusterMetricsWriter(redis, prefix);
    await writer.record([
      { spec: METRICS.telegramApiLatency, labels: { method: 'sendMessage', outcome: 'ok' }, valueMs: 120 },
      { spec: METRICS.llmLimiterRejections, labels: { provider: 'gemini', reason: 'rpm' } },
    ]);
    const text = await scrape();
    expect(value(text, 'innertalk_telegram_api_seconds_count{method="sendMessage",outcome="ok"}')).toBe(1);
    expect(value(text, 'innertalk_telegram_api_recent_seconds{method="sendMessage",outcome="ok",quantile="0.5"}')).toBeCloseTo(0.175, 10);
    expect(value(text, 'innertalk_llm_limiter_rejections_total{provider="gemini",reason="rpm"}')).toBe(1);
    expect(text).toContain('# TYPE innertalk_reply_latency_recent_seconds summary');
  });
});
