import { Redis, type RedisOptions } from 'ioredis';

/**
 * How a connection is used decides how it behaves when Redis is away:
 * - `producer` (ingress, metrics): fail fast instead of buffering commands in memory
 *   (`enableOfflineQueue: false`), so the ingress can answer non-2xx and Telegram redelivers;
 * - `worker`: BullMQ blocking connections must wait out outages (`maxRetriesPerRequest: null`).
 */
export type RedisRole = 'producer' | 'worker';

/** Opens an ioredis client for `url` configured for `role`. The caller owns it and must `quit()` it. */
export function createRedis(url: string, role: RedisRole, extra: RedisOptions = {}): Redis {
  const roleOptions: RedisOptions =
    role === 'producer'
      ? { enableOfflineQueue: false, maxRetriesPerRequest: 1, connectTimeout: 2000 }
      : { maxRetriesPerRequest: null, connectTimeout: 5000 };
  return new Redis(url, { ...roleOptions, lazyConnect: false, ...extra });
}

/** Resolves once `redis` is connected and ready (needed before the first command on a fail-fast client). */
export async function redisReady(redis: Redis, timeoutMs = 10_000): Promise<void> {
  if (redis.status === 'ready') return;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`Redis not ready after ${timeoutMs} ms`));
    }, timeoutMs);
    const onReady = () => {
      cleanup();
      resolve();
    };
    const cleanup = () => {
      clearTimeout(timer);
      redis.off('ready', onReady);
    };
    redis.on('ready', onReady);
  });
}
