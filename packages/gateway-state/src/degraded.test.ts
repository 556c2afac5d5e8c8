import type { Redis } from 'ioredis';
import { freePort, uniquePrefix, waitFor } from '@inner-talk/testkit';
import {
  BreakerWatcher,
  CircuitBreaker,
  Cooldowns,
  cooldownsKey,
  createGatewayRedis,
  GatewayStateConfigError,
  RateLimiter,
  RedisHealth,
  waitForRedis,
  type BreakerTransition,
  type RedisUnavailableError,
} from './index';
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
  const healths: RedisHealth[] = [];
  afterEach(async () => {
    for (const h of healths.splice(0)) h.close();
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
    expect(await call(() => breaker.acquire('p'))).toMatchObject({ decision: 'open', degraded: true, seq: third.event!.seq });
    // A late failure of a call admitted before the local opening does not count against the open state.
    expect(await call(() => breaker.onFailure('p', { seq: third.event!.seq - 1 }))).toEqual({ state: 'open', degraded: true, stale: true });
    expect(events).toEqual([third.event]);
    expect(Math.max(...durations)).toBeLessThan(200);
    expect(errors).toHaveLength(6); // the breaker calls (the limiter and cooldowns have no onRedisError here)
    expect(errors.every((e) => e.name === 'RedisUnavailableError' && e.kind === 'not_connected')).toBe(true);
  });

  describe('with a dedicated redis-server', () => {
    let server: DedicatedRedis;
    beforeAll(async () => {
      server = await startDedicatedRedis();
    });
    afterAll(() => server.stop());

    it('a hung server (SIGSTOP): one call pays the timeout, then every primitive sharing the health answers locally at once; one PING at a time finds Redis back and its state wins', async () => {
      const redis = createGatewayRedis(server.url);
      clients.push(redis);
      expect(await waitForRedis(redis)).toBe(true);
      const health = new RedisHealth(redis, { timeoutMs: 60, probeIntervalMs: 100 });
      healths.push(health);
      const pings = jest.spyOn(redis, 'ping');
      const kinds: string[] = [];
      const prefix = uniquePrefix('hang');
      const breaker = new CircuitBreaker({ redis, prefix, config, health, onRedisError: (e) => kinds.push(e.kind) });
      const limiter = new RateLimiter({ redis, prefix, health });
      const cooldowns = new Cooldowns({ redis, prefix, health });
      expect(await breaker.acquire('h')).toMatchObject({ decision: 'closed', degraded: false });
      await breaker.onFailure('h'); // one failure in Redis

      server.pause();
      try {
        const [first, firstMs] = await timed(() => breaker.acquire('h'));
        expect(first).toMatchObject({ decision: 'closed', degraded: true });
        expect(firstMs).toBeGreaterThanOrEqual(55);
        expect(firstMs).toBeLessThan(200);
        expect(health.available).toBe(false);
        // The limiter and the cooldowns never asked Redis in this outage, yet they do not wait either.
        const [answers, answersMs] = await timed(async () => ({
          failures: [await breaker.onFailure('h'), await breaker.onFailure('h'), await breaker.onFailure('h')],
          grant: await limiter.tryAcquire('s', { rpm: 5 }),
          cooled: await cooldowns.setCooldownFor('k', 60_000, 'rate_limited'),
          read: await cooldowns.cooldowns(['k']),
        }));
        expect(answers.failures.map((f) => f.state)).toEqual(['closed', 'closed', 'open']);
        expect(answers.grant).toMatchObject({ ok: true, degraded: true });
        expect(answers.cooled).toMatchObject({ changed: true, degraded: true });
        expect(answers.read.degraded).toBe(true);
        expect(answers.read.active.has('k')).toBe(true);
        expect(answersMs).toBeLessThan(50);
        // Several probe intervals later: still the first PING, waiting on the hung server.
        await sleep(450);
        expect(pings).toHaveBeenCalledTimes(1);
        expect(health.available).toBe(false);
        expect(kinds.length).toBe(4);
        expect(kinds.every((k) => k === 'timeout')).toBe(true);
      } finally {
        server.resume();
      }
      // The first PING is answered after SIGCONT, too late to count; the next one within the timeout does.
      await waitFor(() => health.available, { timeoutMs: 2_000, intervalMs: 5, message: 'Redis available again' });
      expect(pings.mock.calls.length).toBeGreaterThanOrEqual(2);
      // Redis never saw the local failures: its breaker is closed (1 failure) and it wins again.
      expect(await breaker.acquire('h')).toMatchObject({ decision: 'closed', degraded: false });
      expect(await breaker.onFailure('h')).toEqual({ state: 'closed', degraded: false });
      expect(await breaker.onFailure('h')).toMatchObject({ state: 'open', degraded: false, event: { source: 'redis' } });
      // The cooldown set while degraded reached Redis with the first call that could.
      const read = await cooldowns.cooldowns(['k']);
      expect(read.degraded).toBe(false);
      expect(read.active.get('k')).toMatchObject({ reason: 'rate_limited' });
      expect(Number((await redis.hget(cooldownsKey(prefix), 'k'))?.split('|')[0])).toBe(read.active.get('k')!.untilMs);
    });

    it('a reply error (Redis answered) fails only that call; a health must be shared as a whole', async () => {
      const redis = createGatewayRedis(server.url);
      clients.push(redis);
      expect(await waitForRedis(redis)).toBe(true);
      const health = new RedisHealth(redis);
      healths.push(health);
      const answer = await health.run('test.unknown', (r) => r.call('NO-SUCH-COMMAND'));
      expect(answer).toMatchObject({ ok: false, error: { name: 'RedisUnavailableError', kind: 'reply', operation: 'test.unknown' } });
      expect(health.available).toBe(true);
      expect(await health.run('test.ping', (r) => r.ping())).toEqual({ ok: true, value: 'PONG' });

      const other = createGatewayRedis(server.url, { lazyConnect: true });
      clients.push(other);
      expect(() => new CircuitBreaker({ redis: other, prefix: 'x', health })).toThrow(GatewayStateConfigError);
      expect(() => new RateLimiter({ redis, prefix: 'x', health, timeoutMs: 10 })).toThrow(GatewayStateConfigError);
      expect(() => new RedisHealth(redis, { probeIntervalMs: 0 })).toThrow(GatewayStateConfigError);
    });

    it('a killed server: the local breaker starts from the last state seen in Redis (open stays open); after a restart Redis state wins and the watcher resubscribes', async () => {
      const redis = createGatewayRedis(server.url);
      clients.push(redis);
      expect(await waitForRedis(redis)).toBe(true);
      const prefix = uniquePrefix('kill');
      const watcher = new BreakerWatcher({ redis, prefix });
      watchers.push(watcher);
      expect(await watcher.start()).toBe(true);
      const health = new RedisHealth(redis);
      healths.push(health);
      const breaker = new CircuitBreaker({ redis, prefix, watcher, config, health });
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
      // If a command met the closing connection, Redis was marked unavailable: a PING brings it back.
      await waitFor(() => health.available, { timeoutMs: 2_000, intervalMs: 10, message: 'Redis available again' });
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
