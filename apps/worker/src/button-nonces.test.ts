import { Redis } from 'ioredis';
import { serviceUrls, uniquePrefix } from '@inner-talk/testkit';
import { Vault } from '@inner-talk/vault';
import { RedisButtonNonces } from './button-nonces';

describe('button nonces in Redis', () => {
  const redis = new Redis(serviceUrls().redisUrl);
  const prefix = uniquePrefix('nonces');
  const nonces = new RedisButtonNonces(redis, prefix, Vault.withRandomKey());
  afterAll(async () => {
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length) await redis.del(...keys);
    redis.disconnect();
  });

  it('keeps one live nonce per person and purpose, the same for a retried turn, replaced by a new one', async () => {
    expect(await nonces.live('tg:1', 'forget')).toBeNull();
    expect(await nonces.issue('tg:1', 'forget', 'u10', 'first')).toBe('first');
    expect(await nonces.issue('tg:1', 'forget', 'u10', 'other')).toBe('first');
    expect(await nonces.live('tg:1', 'forget')).toBe('first');
    expect(await nonces.live('tg:2', 'forget')).toBeNull();
    expect(await nonces.live('tg:1', 'history')).toBeNull();
    expect(await nonces.issue('tg:1', 'forget', 'u11', 'second')).toBe('second');
    expect(await nonces.live('tg:1', 'forget')).toBe('second');
  });

  it('expires: an hour for /forget, a day for /history; names its keys for /forget', async () => {
    await nonces.issue('tg:3', 'forget', 'u1', 'f');
    await nonces.issue('tg:3', 'history', 'u2', 'h');
    const keys = nonces.keysOf('tg:3');
    // Named by a pseudonym: no key names the person.
    expect((await redis.keys(`${prefix}:*`)).filter((k) => k.includes('tg:'))).toEqual([]);
    const ttls = Object.fromEntries(await Promise.all(keys.map(async (k) => [k.split(':').at(-1), await redis.ttl(k)] as const)));
    expect(ttls.forget).toBeGreaterThan(3_500);
    expect(ttls.forget).toBeLessThanOrEqual(3_600);
    expect(ttls.history).toBeGreaterThan(86_000);
    expect(Object.keys(ttls).sort()).toEqual(['forget', 'history']);
  });
});
