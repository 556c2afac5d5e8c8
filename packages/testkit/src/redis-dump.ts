import type { Redis } from 'ioredis';

/**
 * Every key under `<prefix>:` with everything it holds as text, whatever its type (string, list,
 * set, sorted set with scores, hash, stream): what a test scans for data that must not be there.
 * Keys that vanish during the scan are left out.
 */
export async function redisDump(redis: Redis, prefix: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
    cursor = next;
    for (const key of keys) {
      const value = await valueText(redis, key);
      if (value !== null) out[key] = value;
    }
  } while (cursor !== '0');
  return out;
}

async function valueText(redis: Redis, key: string): Promise<string | null> {
  switch (await redis.type(key)) {
    case 'string':
      return redis.get(key);
    case 'list':
      return (await redis.lrange(key, 0, -1)).join('\n');
    case 'set':
      return (await redis.smembers(key)).join('\n');
    case 'zset':
      return (await redis.zrange(key, '0', '-1', 'WITHSCORES')).join('\n');
    case 'hash':
      return JSON.stringify(await redis.hgetall(key));
    case 'stream':
      return JSON.stringify(await redis.xrange(key, '-', '+'));
    default:
      return null;
  }
}
