import { Redis } from 'ioredis';
import { serviceUrls, uniquePrefix } from '@inner-talk/testkit';
import { ActivePeople } from './active-people';

describe('ActivePeople against real Redis', () => {
  const redis = new Redis(serviceUrls().redisUrl);
  const prefix = uniquePrefix('active');
  afterAll(async () => {
    await redis.del(`${prefix}:active-people`);
    await redis.quit();
  });

  it('counts each person once per window across writers, trims old entries, forgets on request, and keeps no id', async () => {
    const now = Date.UTC(2026, 4, 5, 12);
    const a = new ActivePeople(redis, prefix);
    const b = new ActivePeople(redis, prefix); // another worker
    await a.touch('1001', now - 60_000);
    await b.touch('1001', now - 30_000); // the same person again: still one
    await a.touch('1002', now - 20 * 60_000);
    await b.touch('1003', now - 3 * 3_600_000);
    await a.touch('1004', now - 2 * 86_400_000); // outside every window
    expect(await a.count(now)).toEqual({ '5m': 1, '30m': 2, '24h': 3 });
    expect(await redis.zcard(`${prefix}:active-people`)).toBe(3); // the 2-day-old entry was trimmed
    expect(JSON.stringify(await redis.zrange(`${prefix}:active-people`, '0', '-1'))).not.toMatch(/100[1-4]/);
    await b.forget('1001');
    expect(await a.count(now)).toEqual({ '5m': 0, '30m': 1, '24h': 2 });
  });
});
