import type { Redis } from 'ioredis';
import { serviceUrls, uniquePrefix } from '@inner-talk/testkit';
import { LocalBreaker } from './breaker-local';
import { resolveBreakerConfig } from './breaker-types';
import { CircuitBreaker, createGatewayRedis, waitForRedis } from './index';

describe('LocalBreaker (the per-process fallback) follows the same rules', () => {
  const config = resolveBreakerConfig({ failureThreshold: 3, errorRate: { threshold: 0.5, windowMs: 10_000, minCalls: 6 }, openMs: 1_000, backoffMultiplier: 2, maxOpenMs: 3_000, probeLeaseMs: 500 });

  it('opens after N consecutive failures and on the error rate', () => {
    const b = new LocalBreaker('x');
    expect(b.record(config, 'failure', false, 0)).toBeUndefined();
    expect(b.record(config, 'failure', false, 1)).toBeUndefined();
    expect(b.record(config, 'success', false, 2)).toBeUndefined();
    expect(b.record(config, 'failure', false, 3)).toBeUndefined();
    expect(b.record(config, 'failure', false, 4)).toBeUndefined(); // 4 failures in 5 calls, below minCalls 6
    expect(b.record(config, 'success', false, 5)).toBeUndefined();
    expect(b.record(config, 'failure', false, 6)).toMatchObject({ from: 'closed', to: 'open', reason: 'error_rate', openUntil: 1_006, source: 'local' });

    const c = new LocalBreaker('y');
    c.record(config, 'failure', false, 0);
    c.record(config, 'failure', false, 0);
    expect(c.record(config, 'failure', false, 0)).toMatchObject({ reason: 'consecutive_failures' });
  });

  it('one probe per lease, backoff on failed probes (capped), never shortened, closes on a probe success', () => {
    const b = new LocalBreaker('p');
    b.forceOpen(2_000, 0);
    expect(b.acquire(config, 1_999)).toMatchObject({ decision: 'open', retryAfterMs: 1 });
    expect(b.acquire(config, 2_000)).toMatchObject({ decision: 'probe', event: { to: 'half_open', reason: 'probe_granted' } });
    expect(b.acquire(config, 2_100)).toMatchObject({ decision: 'open', retryAfterMs: 400 });
    expect(b.acquire(config, 2_500)).toEqual({ decision: 'probe', retryAfterMs: 0 }); // lease ran out
    expect(b.record(config, 'failure', true, 2_600)).toMatchObject({ to: 'open', reason: 'probe_failed', openUntil: 4_600 }); // 1000 × 2
    expect(b.forceOpen(100, 2_700)).toBeUndefined(); // already open: not shortened
    expect(b.acquire(config, 4_599).decision).toBe('open');
    expect(b.acquire(config, 4_600).decision).toBe('probe');
    expect(b.record(config, 'failure', true, 4_600)).toMatchObject({ openUntil: 7_600 }); // 1000 × 4 capped at 3000
    expect(b.acquire(config, 7_600).decision).toBe('probe');
    expect(b.record(config, 'success', false, 7_601)).toBeUndefined(); // not the probe
    expect(b.record(config, 'success', true, 7_602)).toMatchObject({ from: 'half_open', to: 'closed', reason: 'probe_succeeded' });
    expect(b.acquire(config, 7_603).decision).toBe('closed');
  });

  it('starts from a seed (what the process last learned from Redis)', () => {
    const b = new LocalBreaker('s', { state: 'open', openUntil: 5_000, leaseUntil: 0, seq: 7, observedAt: 1 });
    expect(b.acquire(config, 4_000)).toMatchObject({ decision: 'open', retryAfterMs: 1_000 });
    // Its seq continues from the seed's, so outcomes admitted by Redis under that state still match.
    expect(b.seq).toBe(7);
    expect(b.acquire(config, 5_000, 20_000)).toMatchObject({ decision: 'probe', event: { seq: 8, leaseUntil: 25_000 } });
    expect(b.seq).toBe(8);
  });

  describe('agrees with the Redis scripts', () => {
    let redis: Redis;
    let prefix: string;
    beforeAll(async () => {
      redis = createGatewayRedis(serviceUrls().redisUrl);
      await waitForRedis(redis);
      prefix = uniquePrefix('diff');
    });
    afterAll(async () => {
      const keys = await redis.keys(`${prefix}:*`);
      if (keys.length) await redis.del(...keys);
      await redis.quit();
    });

    it('on random outcome sequences (closed-state rules)', async () => {
      const slow = { ...config, openMs: 600_000, maxOpenMs: 600_000 };
      const breaker = new CircuitBreaker({ redis, prefix, config: slow });
      let seed = 12345;
      const random = (): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
      const reasons = new Set<string>();
      for (let run = 0; run < 20; run++) {
        const id = `r${run}`;
        const local = new LocalBreaker(id);
        const failureRate = 0.2 + 0.6 * random();
        for (let step = 0; step < 15; step++) {
          const outcome = random() < failureRate ? 'failure' : 'success';
          const remote = outcome === 'failure' ? await breaker.onFailure(id) : await breaker.onSuccess(id);
          const event = local.record(slow, outcome, false, Date.now());
          expect([run, step, remote.state, remote.event?.reason]).toEqual([run, step, local.state, event?.reason]);
          if (event) reasons.add(event.reason);
        }
      }
      // The sequences exercised both opening rules.
      expect(reasons).toEqual(new Set(['consecutive_failures', 'error_rate']));
    });
  });
});
