import type { Redis } from 'ioredis';
import { serviceUrls, uniquePrefix } from '@inner-talk/testkit';
import { Cooldowns, cooldownsKey, createGatewayRedis, waitForRedis } from './index';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('Cooldowns', () => {
  let redis: Redis;
  let prefix: string;
  const extra: Redis[] = [];

  beforeAll(async () => {
    redis = createGatewayRedis(serviceUrls().redisUrl);
    expect(await waitForRedis(redis)).toBe(true);
  });
  beforeEach(() => {
    prefix = uniquePrefix('cd');
  });
  afterEach(async () => {
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length) await redis.del(...keys);
    for (const r of extra.splice(0)) r.disconnect();
  });
  afterAll(() => redis.quit());

  const redisNow = async (): Promise<number> => {
    const [s, us] = await redis.time();
    return Number(s) * 1000 + Math.floor(Number(us) / 1000);
  };

  it('never shortens an existing cooldown; a longer one extends it', async () => {
    const cooldowns = new Cooldowns({ redis, prefix });
    const now = await redisNow();
    expect(await cooldowns.setCooldown('k1', now + 60_000, 'daily_quota')).toEqual({ untilMs: now + 60_000, changed: true, degraded: false });
    // A short 429 cooldown arriving later must not cut the daily-quota one.
    expect(await cooldowns.setCooldown('k1', now + 5_000, 'rate_limit')).toEqual({ untilMs: now + 60_000, changed: false, degraded: false });
    expect((await cooldowns.cooldowns(['k1'])).active.get('k1')).toEqual({ untilMs: now + 60_000, reason: 'daily_quota' });
    expect(await cooldowns.setCooldown('k1', now + 90_000, 'rate_limit')).toEqual({ untilMs: now + 90_000, changed: true, degraded: false });
    expect((await cooldowns.cooldowns(['k1'])).active.get('k1')).toEqual({ untilMs: now + 90_000, reason: 'rate_limit' });
  });

  it('keeps the maximum under concurrent writers on several connections', async () => {
    const clients = Array.from({ length: 5 }, () => createGatewayRedis(serviceUrls().redisUrl));
    extra.push(...clients);
    await Promise.all(clients.map((c) => waitForRedis(c)));
    const now = await redisNow();
    const ends = Array.from({ length: 50 }, (_, i) => now + 10_000 + ((i * 7919) % 50) * 100);
    await Promise.all(ends.map((until, i) => new Cooldowns({ redis: clients[i % clients.length]!, prefix }).setCooldown('hot', until, `r${i}`)));
    const max = Math.max(...ends);
    expect((await new Cooldowns({ redis, prefix }).cooldowns(['hot'])).active.get('hot')?.untilMs).toBe(max);
  });

  it('reads many keys in one call, returning only active cooldowns judged on Redis TIME', async () => {
    const cooldowns = new Cooldowns({ redis, prefix });
    const now = await redisNow();
    await cooldowns.setCooldown('a', now + 30_000, 'rate_limit');
    await cooldowns.setCooldownFor('b', 250, 'rate_limit');
    expect(await cooldowns.setCooldown('c', now - 1_000, 'rate_limit')).toMatchObject({ untilMs: 0, changed: false });
    const first = await cooldowns.cooldowns(['a', 'b', 'c', 'd']);
    expect(first.degraded).toBe(false);
    expect([...first.active.keys()].sort()).toEqual(['a', 'b']);
    const bUntil = first.active.get('b')!.untilMs;
    expect(bUntil).toBeGreaterThanOrEqual(now + 250);
    expect(bUntil).toBeLessThan(now + 250 + 100);
    await sleep(300);
    expect([...(await cooldowns.cooldowns(['a', 'b', 'c', 'd'])).active.keys()]).toEqual(['a']);
  });

  it('removes ended cooldowns and lets the hash expire with the last one', async () => {
    const cooldowns = new Cooldowns({ redis, prefix });
    await cooldowns.setCooldownFor('x', 150, 'rate_limit');
    await cooldowns.setCooldownFor('y', 300, 'rate_limit');
    const ttl = await redis.pttl(cooldownsKey(prefix));
    expect(ttl).toBeGreaterThan(200);
    expect(ttl).toBeLessThanOrEqual(300);
    await sleep(200);
    await cooldowns.setCooldownFor('z', 200, 'rate_limit'); // prunes x
    expect((await redis.hkeys(cooldownsKey(prefix))).sort()).toEqual(['y', 'z']);
    await sleep(450);
    expect(await redis.exists(cooldownsKey(prefix))).toBe(0);
  });

  it('answers from its local copy when Redis is unreachable and writes those cooldowns once it is back', async () => {
    // A lazy client is "not connected" until its first use: the first calls fall back, then it connects.
    const lazy = createGatewayRedis(serviceUrls().redisUrl, { lazyConnect: true });
    extra.push(lazy);
    const kinds: string[] = [];
    const cooldowns = new Cooldowns({ redis: lazy, prefix, onRedisError: (e) => kinds.push(e.kind) });
    const until = Date.now() + 20_000;
    const started = performance.now();
    expect(await cooldowns.setCooldown('k', until, 'rate_limit')).toEqual({ untilMs: until, changed: true, degraded: true });
    expect(await cooldowns.setCooldown('k', until - 5_000, 'rate_limit')).toEqual({ untilMs: until, changed: false, degraded: true });
    const local = await cooldowns.cooldowns(['k', 'other']);
    expect(performance.now() - started).toBeLessThan(200);
    expect(local).toEqual({ active: new Map([['k', { untilMs: until, reason: 'rate_limit' }]]), degraded: true });
    const forEnd = (await cooldowns.setCooldownFor('f', 10_000, 'rate_limit')).untilMs;
    expect(kinds).toEqual(['not_connected', 'not_connected', 'not_connected', 'not_connected']);
    expect(await redis.exists(cooldownsKey(prefix))).toBe(0);

    await waitForRedis(lazy);
    const remote = await cooldowns.cooldowns(['k']);
    expect(remote.degraded).toBe(false);
    expect(remote.active.get('k')).toEqual({ untilMs: until, reason: 'rate_limit' });
    // Written to Redis, so other processes see it too.
    await sleep(50);
    const elsewhere = (await new Cooldowns({ redis, prefix }).cooldowns(['k', 'f'])).active;
    expect(elsewhere.get('k')?.untilMs).toBe(until);
    // A duration set while degraded is replayed as the end computed then, not stretched by the delay.
    expect(elsewhere.get('f')?.untilMs).toBe(forEnd);
  });
});
