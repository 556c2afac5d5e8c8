import type { Redis } from 'ioredis';
import { serviceUrls, uniquePrefix } from '@inner-talk/testkit';
import { createGatewayRedis, waitForRedis, EstimateExceedsLimitError, GatewayStateConfigError, RateLimiter, rateLimitKeys, type AcquireResult, type Reservation } from './index';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const granted = (r: AcquireResult): Reservation => {
  if (!r.ok) throw new Error(`expected a grant, got ${JSON.stringify(r)}`);
  return r.reservation;
};

describe('RateLimiter (Redis sliding log)', () => {
  let redis: Redis;
  let prefix: string;
  const extra: Redis[] = [];

  beforeAll(async () => {
    redis = createGatewayRedis(serviceUrls().redisUrl);
    expect(await waitForRedis(redis)).toBe(true);
  });
  beforeEach(() => {
    prefix = uniquePrefix('rl');
  });
  afterEach(async () => {
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length) await redis.del(...keys);
    for (const r of extra.splice(0)) r.disconnect();
  });
  afterAll(() => redis.quit());

  it('admits exactly rpm requests per window and says when the oldest one leaves it', async () => {
    const limiter = new RateLimiter({ redis, prefix, windowMs: 1_000 });
    const first = granted(await limiter.tryAcquire('s', { rpm: 3 }));
    await sleep(200);
    granted(await limiter.tryAcquire('s', { rpm: 3 }));
    granted(await limiter.tryAcquire('s', { rpm: 3 }));
    const refused = await limiter.tryAcquire('s', { rpm: 3 });
    expect(refused).toMatchObject({ ok: false, reason: 'rpm', degraded: false });
    const { time } = await timeNow(redis);
    // The first grant leaves the window at first + 1000 ms.
    const expected = (first.grantedAtUs + 1_000_000 - time) / 1000;
    expect(refused.ok ? 0 : refused.retryAfterMs).toBeGreaterThanOrEqual(Math.floor(expected) - 5);
    expect(refused.ok ? 0 : refused.retryAfterMs).toBeLessThanOrEqual(Math.ceil(expected) + 5);
    await sleep(refused.ok ? 0 : refused.retryAfterMs + 5);
    granted(await limiter.tryAcquire('s', { rpm: 3 }));
    expect((await limiter.tryAcquire('s', { rpm: 3 })).ok).toBe(false);
  });

  it('slides: a fixed window would admit 2R across its boundary, the log does not', async () => {
    const limiter = new RateLimiter({ redis, prefix, windowMs: 1_000 });
    const a = granted(await limiter.tryAcquire('s', { rpm: 2 }));
    await sleep(500);
    const b = granted(await limiter.tryAcquire('s', { rpm: 2 }));
    const r1 = await limiter.tryAcquire('s', { rpm: 2 });
    expect(r1.ok).toBe(false);
    await sleep(r1.ok ? 0 : r1.retryAfterMs + 5); // a leaves, b stays
    const c = granted(await limiter.tryAcquire('s', { rpm: 2 }));
    expect(c.grantedAtUs - a.grantedAtUs).toBeGreaterThanOrEqual(1_000_000);
    const r2 = await limiter.tryAcquire('s', { rpm: 2 });
    expect(r2).toMatchObject({ ok: false, reason: 'rpm' });
    // Now waiting for b, which is ~500 ms younger than a.
    const { time } = await timeNow(redis);
    expect(r2.ok ? 0 : r2.retryAfterMs).toBeGreaterThan((b.grantedAtUs + 1_000_000 - time) / 1000 - 5);
    expect(r2.ok ? 0 : r2.retryAfterMs).toBeLessThan(600);
  });

  it('never admits more than rpm among many concurrent callers on many connections', async () => {
    const clients = Array.from({ length: 8 }, () => createGatewayRedis(serviceUrls().redisUrl));
    extra.push(...clients);
    expect(await Promise.all(clients.map((c) => waitForRedis(c)))).toEqual(clients.map(() => true));
    const limiters = clients.map((c) => new RateLimiter({ redis: c, prefix, windowMs: 10_000 }));
    const results = await Promise.all(Array.from({ length: 120 }, (_, i) => limiters[i % limiters.length]!.tryAcquire('busy', { rpm: 25, tpm: 10_000, estimatedTokens: 10 })));
    expect(results.filter((r) => r.ok)).toHaveLength(25);
    expect(results.every((r) => !r.degraded)).toBe(true);
    const [log, tok] = rateLimitKeys(prefix, 'busy');
    expect(await redis.zcard(log)).toBe(25);
    expect(await redis.hget(tok, '#sum')).toBe('250');
  });

  it('reserves TPM with the RPM check, and reconcile replaces the estimate with the actual usage', async () => {
    const limiter = new RateLimiter({ redis, prefix, windowMs: 5_000 });
    const limits = { rpm: 100, tpm: 1_000 };
    const a = granted(await limiter.tryAcquire('t', { ...limits, estimatedTokens: 400 }));
    granted(await limiter.tryAcquire('t', { ...limits, estimatedTokens: 400 }));
    expect(await limiter.tryAcquire('t', { ...limits, estimatedTokens: 300 })).toMatchObject({ ok: false, reason: 'tpm' });
    expect((await limiter.remaining(['t'], limits)).get('t')).toEqual({ requests: 98, tokens: 200, degraded: false });

    // The first call used less than estimated: the difference is free at once.
    expect(await limiter.reconcile(a, 150)).toEqual({ applied: true, degraded: false });
    expect((await limiter.remaining(['t'], limits)).get('t')).toEqual({ requests: 98, tokens: 450, degraded: false });
    const c = granted(await limiter.tryAcquire('t', { ...limits, estimatedTokens: 300 }));
    // …and one that used more than estimated takes capacity away.
    await limiter.reconcile(c, 449);
    expect(await limiter.tryAcquire('t', { ...limits, estimatedTokens: 2 })).toMatchObject({ ok: false, reason: 'tpm' });
    expect(await limiter.tryAcquire('t', { ...limits, estimatedTokens: 1 })).toMatchObject({ ok: true });
    const [, tok] = rateLimitKeys(prefix, 't');
    expect(await redis.hget(tok, '#sum')).toBe('1000');
  });

  it('computes the TPM wait from the window contents: until enough tokens leave', async () => {
    const limiter = new RateLimiter({ redis, prefix, windowMs: 2_000 });
    const limits = { tpm: 1_000 };
    const a = granted(await limiter.tryAcquire('w', { ...limits, estimatedTokens: 100 }));
    await sleep(300);
    const b = granted(await limiter.tryAcquire('w', { ...limits, estimatedTokens: 800 }));
    // Needs 100 + 800 + 500 - 1000 = 400 tokens to leave: a (100) is not enough, b is.
    // The limiter reads Redis TIME inside its script: bracket that moment by reading it just before
    // and just after (a loaded machine can stall between calls for longer than any fixed tolerance).
    const { time: before } = await timeNow(redis);
    const refused = await limiter.tryAcquire('w', { ...limits, estimatedTokens: 500 });
    const { time } = await timeNow(redis);
    expect(refused).toMatchObject({ ok: false, reason: 'tpm' });
    const expected = (b.grantedAtUs + 2_000_000 - time) / 1000;
    const latest = (b.grantedAtUs + 2_000_000 - before) / 1000;
    expect(refused.ok ? 0 : refused.retryAfterMs).toBeGreaterThanOrEqual(Math.floor(expected) - 5);
    expect(refused.ok ? 0 : refused.retryAfterMs).toBeLessThanOrEqual(Math.ceil(latest) + 5);
    // Needing only 50 tokens to leave: a suffices.
    const sooner = await limiter.tryAcquire('w', { ...limits, estimatedTokens: 150 });
    expect(sooner.ok ? 0 : sooner.retryAfterMs).toBeLessThanOrEqual(Math.ceil((a.grantedAtUs + 2_000_000 - time) / 1000) + 5);
    expect(sooner.ok ? 0 : sooner.retryAfterMs).toBeLessThan(expected - 200);
  });

  it('rejects an estimate above TPM with a typed error and writes nothing', async () => {
    const limiter = new RateLimiter({ redis, prefix });
    const attempt = limiter.tryAcquire('big', { rpm: 10, tpm: 1_000, estimatedTokens: 1_001 });
    await expect(attempt).rejects.toBeInstanceOf(EstimateExceedsLimitError);
    await expect(attempt).rejects.toMatchObject({ scope: 'big', estimatedTokens: 1_001, tpm: 1_000 });
    expect(await redis.keys(`${prefix}:*`)).toEqual([]);
    // An estimate equal to the limit is fine.
    expect((await limiter.tryAcquire('big', { tpm: 1_000, estimatedTokens: 1_000 })).ok).toBe(true);
  });

  it('rejects limits that cannot work with GatewayStateConfigError', async () => {
    const limiter = new RateLimiter({ redis, prefix });
    await expect(limiter.tryAcquire('x', {})).rejects.toBeInstanceOf(GatewayStateConfigError);
    await expect(limiter.tryAcquire('x', { rpm: 0 })).rejects.toBeInstanceOf(GatewayStateConfigError);
    await expect(limiter.tryAcquire('x', { tpm: 1.5 })).rejects.toBeInstanceOf(GatewayStateConfigError);
    await expect(limiter.tryAcquire('x', { rpm: 1, estimatedTokens: -1 })).rejects.toBeInstanceOf(GatewayStateConfigError);
    expect(() => new RateLimiter({ redis, prefix, windowMs: 0 })).toThrow(GatewayStateConfigError);
    expect(() => new RateLimiter({ redis, prefix, degradedShare: 0 })).toThrow(GatewayStateConfigError);
  });

  it('lets entries leave the window and the keys expire on their own', async () => {
    const limiter = new RateLimiter({ redis, prefix, windowMs: 300 });
    const r = granted(await limiter.tryAcquire('e', { rpm: 5, tpm: 100, estimatedTokens: 10 }));
    const [log, tok] = rateLimitKeys(prefix, 'e');
    const ttl = await redis.pttl(log);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(1_300);
    expect(await redis.pttl(tok)).toBeGreaterThan(0);
    await sleep(350);
    // Out of the window: it no longer counts, and reconciling it changes nothing.
    expect((await limiter.remaining(['e'], { rpm: 5, tpm: 100 })).get('e')).toEqual({ requests: 5, tokens: 100, degraded: false });
    expect(await redis.exists(tok)).toBe(0);
    expect(await limiter.reconcile(r, 99)).toEqual({ applied: false, degraded: false });
    await sleep(1_000);
    expect(await redis.exists(log)).toBe(0);
  });

  it('release gives back the slot and the tokens of a request that was never sent', async () => {
    const limiter = new RateLimiter({ redis, prefix, windowMs: 10_000 });
    const r = granted(await limiter.tryAcquire('rel', { rpm: 1, tpm: 100, estimatedTokens: 60 }));
    expect((await limiter.tryAcquire('rel', { rpm: 1 })).ok).toBe(false);
    expect(await limiter.release(r)).toEqual({ released: true, degraded: false });
    expect(await limiter.release(r)).toEqual({ released: false, degraded: false });
    expect((await limiter.remaining(['rel'], { rpm: 1, tpm: 100 })).get('rel')).toEqual({ requests: 1, tokens: 100, degraded: false });
  });

  it('reports remaining capacity of many scopes in one pipeline, with per-scope limits', async () => {
    const limiter = new RateLimiter({ redis, prefix, windowMs: 10_000 });
    for (let i = 0; i < 3; i++) await limiter.tryAcquire('k1', { rpm: 10, tpm: 1_000, estimatedTokens: 100 });
    await limiter.tryAcquire('k2', { rpm: 10, tpm: 1_000, estimatedTokens: 700 });
    const limits = (scope: string) => (scope === 'k3' ? { rpm: 5 } : { rpm: 10, tpm: 1_000 });
    const remaining = await limiter.remaining(['k1', 'k2', 'k3', 'k1'], limits);
    expect([...remaining.entries()]).toEqual([
      ['k1', { requests: 7, tokens: 700, degraded: false }],
      ['k2', { requests: 9, tokens: 300, degraded: false }],
      ['k3', { requests: 5, tokens: Infinity, degraded: false }],
    ]);
  });

  it('answers from a per-process log with its share of the limits when Redis is unreachable', async () => {
    const down = createGatewayRedis('redis://127.0.0.1:1', { lazyConnect: true });
    extra.push(down);
    const errors: string[] = [];
    const limiter = new RateLimiter({ redis: down, prefix, windowMs: 1_000, degradedShare: 0.5, onRedisError: (e) => errors.push(e.kind) });
    const started = performance.now();
    const results = [];
    for (let i = 0; i < 4; i++) results.push(await limiter.tryAcquire('d', { rpm: 4, tpm: 1_000, estimatedTokens: 100 }));
    expect(performance.now() - started).toBeLessThan(200);
    expect(results.map((r) => [r.ok, r.degraded])).toEqual([
      [true, true],
      [true, true],
      [false, true],
      [false, true],
    ]);
    expect(results[2]).toMatchObject({ reason: 'rpm' });
    expect(errors.length).toBe(4);
    expect(new Set(errors)).toEqual(new Set(['not_connected']));
    const r = granted(results[0]!);
    expect(r.degraded).toBe(true);
    expect(await limiter.reconcile(r, 10)).toEqual({ applied: true, degraded: true });
    expect((await limiter.remaining(['d'], { rpm: 4, tpm: 1_000 })).get('d')).toEqual({ requests: 0, tokens: 390, degraded: true });
  });
});

async function timeNow(redis: Redis): Promise<{ time: number }> {
  const [s, us] = await redis.time();
  return { time: Number(s) * 1_000_000 + Number(us) };
}
