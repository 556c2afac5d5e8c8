import type { Redis } from 'ioredis';
import { freePort, uniquePrefix, waitFor } from '@inner-talk/testkit';
import { BreakerWatcher, CircuitBreaker, Cooldowns, createGatewayRedis, RateLimiter, waitForRedis, type BreakerTransition, type RedisUnavailableError } from './index';
import { startDedicatedRedis, type DedicatedRedis } from './fixtures/redis-server';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const timed = async <T>(fn: () => Promise<T>): Promise<[T, number]> => {
  const started = performance.now();
  const value = await fn();
  return [value, performance.now() - started];
};
const config = { failureThreshold: 3, errorRate: false as const, openMs: 5_000 };

describe('Redis unreachable: fallbacks answer within 200 ms with degraded: true', () => {
  const clients: Redis[] = [];
  const watchers: BreakerWatcher[] = [];
  afterEach(async () => {
    await Promise.all(watchers.splice(0).map((w) => w.close()));
    for (const c of clients.splice(0)) c.disconnect();
  });

  it('a client pointed at a closed port: breaker, limiter and cooldowns answer locally and the local breaker opens after N failures', async () => {
    const redis = createGatewayRedis(`redis://127.0.0.1:${await freePort()}`);
    clients.push(redis);
    const errors: RedisUnavailableError[] = [];
    const events: BreakerTransition[] = [];
    const prefix = uniquePrefix('dg');
    const breaker = new CircuitBreaker({ redis, prefix, config, onTransition: (e) => events.push(e), onRedisError: (e) => errors.push(e) });
    const limiter = new RateLimiter({ redis, prefix });
    const cooldowns = new Cooldowns({ redis, prefix });
    const durations: number[] = [];
    const call = async <T>(fn: () => Promise<T>): Promise<T> => {
      const [value, ms] = await timed(fn);
      durations.push(ms);
      return value;
    };

    expect(await call(() => breaker.acquire('p'))).toMatchObject({ decision: 'closed', degraded: true });
    expect(await call(() => limiter.tryAcquire('s', { rpm: 10, tpm: 100, estimatedTokens: 5 }))).toMatchObject({ ok: true, degraded: true });
    expect(await call(() => cooldowns.setCooldownFor('k', 1_000, 'rate_limit'))).toMatchObject({ changed: true, degraded: true });
    expect(await call(() => breaker.onFailure('p'))).toEqual({ state: 'closed', degraded: true });
    expect(await call(() => breaker.onFailure('p'))).toEqual({ state: 'closed', degraded: true });
    const third = await call(() => breaker.onFailure('p'));
    expect(third).toMatchObject({ state: 'open', degraded: true, event: { from: 'closed', to: 'open', reason: 'consecutive_failures', source: 'local' } });
    expect(await call(() => breaker.acquire('p'))).toMatchObject({ decision: 'open', degraded: true });
    expect(events).toEqual([third.event]);
    expect(Math.max(...durations)).toBeLessThan(200);
    expect(errors).toHaveLength(5); // the breaker calls (the limiter and cooldowns have no onRedisError here)
    expect(errors.every((e) => e.name === 'RedisUnavailableError' && e.kind === 'not_connected')).toBe(true);
  });

  describe('with a dedicated redis-server', () => {
    let server: DedicatedRedis;
    beforeAll(async () => {
      server = await startDedicatedRedis();
    });
    afterAll(() => server.stop());

    it('a hung server (SIGSTOP): calls give up after the timeout, the local breaker takes over, and after recovery Redis state wins', async () => {
      const redis = createGatewayRedis(server.url);
      clients.push(redis);
      expect(await waitForRedis(redis)).toBe(true);
      const kinds: string[] = [];
      const prefix = uniquePrefix('hang');
      const breaker = new CircuitBreaker({ redis, prefix, config, timeoutMs: 60, backoffMs: 1_000, onRedisError: (e) => kinds.push(e.kind) });
      const limiter = new RateLimiter({ redis, prefix, timeoutMs: 60, backoffMs: 1_000 });
      expect(await breaker.acquire('h')).toMatchObject({ decision: 'closed', degraded: false });
      await breaker.onFailure('h'); // one failure in Redis

      server.pause();
      try {
        const [first, firstMs] = await timed(() => breaker.acquire('h'));
        expect(first).toMatchObject({ decision: 'closed', degraded: true });
        expect(firstMs).toBeGreaterThanOrEqual(55);
        expect(firstMs).toBeLessThan(200);
        // Within the backoff the fallback answers at once instead of paying the timeout again.
        const [failures, failuresMs] = await timed(async () => [await breaker.onFailure('h'), await breaker.onFailure('h'), await breaker.onFailure('h')]);
        expect(failures.map((f) => f.state)).toEqual(['closed', 'closed', 'open']);
        expect(failuresMs).toBeLessThan(50);
        const [grant, grantMs] = await timed(() => limiter.tryAcquire('s', { rpm: 5 }));
        expect(grant).toMatchObject({ ok: true, degraded: true });
        expect(grantMs).toBeLessThan(200);
        expect(kinds[0]).toBe('timeout');
      } finally {
        server.resume();
      }
      await sleep(1_050); // let the backoff pass
      // Redis never saw the local failures: its breaker is closed (1 failure) and it wins again.
      expect(await breaker.acquire('h')).toMatchObject({ decision: 'closed', degraded: false });
      expect(await breaker.onFailure('h')).toEqual({ state: 'closed', degraded: false });
      expect(await breaker.onFailure('h')).toMatchObject({ state: 'open', degraded: false, event: { source: 'redis' } });
    });

    it('a killed server: the local breaker starts from the last state seen in Redis (open stays open); after a restart Redis state wins and the watcher resubscribes', async () => {
      const redis = createGatewayRedis(server.url);
      clients.push(redis);
      expect(await waitForRedis(redis)).toBe(true);
      const prefix = uniquePrefix('kill');
      const watcher = new BreakerWatcher({ redis, prefix });
      watchers.push(watcher);
      expect(await watcher.start()).toBe(true);
      const breaker = new CircuitBreaker({ redis, prefix, watcher, config });
      for (let i = 0; i < 3; i++) await breaker.onFailure('k');
      expect((await breaker.acquire('k')).decision).toBe('open');

      await server.kill();
      await waitFor(() => !watcher.live, { timeoutMs: 2_000, intervalMs: 5 });
      const [seeded, ms] = await timed(() => breaker.acquire('k'));
      expect(seeded).toMatchObject({ decision: 'open', state: 'open', degraded: true });
      expect(seeded.retryAfterMs).toBeGreaterThan(3_000);
      expect(ms).toBeLessThan(200);
      // A breaker never seen before starts closed locally.
      expect(await breaker.acquire('fresh')).toMatchObject({ decision: 'closed', degraded: true });

      await server.restart();
      expect(await waitForRedis(redis, 5_000)).toBe(true);
      await waitFor(() => watcher.live, { timeoutMs: 5_000, intervalMs: 10 });
      // The new server is empty: Redis says closed, and Redis wins over the local "open".
      expect(await breaker.acquire('k')).toMatchObject({ decision: 'closed', degraded: false });
      const seen: BreakerTransition[] = [];
      watcher.onEvent((e) => seen.push(e));
      const other = createGatewayRedis(server.url);
      clients.push(other);
      await waitForRedis(other);
      await new CircuitBreaker({ redis: other, prefix, config: { ...config, failureThreshold: 1 } }).onFailure('k');
      await waitFor(() => seen.length === 1 && watcher.state('k')?.state === 'open', { timeoutMs: 1_000, intervalMs: 5 });
    });
  });
});
