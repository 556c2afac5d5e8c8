import { Redis } from 'ioredis';
import { MongoClient } from 'mongodb';

/**
 * Deletes everything a local cluster stored under `prefix` in Redis (SCAN, so it never blocks the
 * server) and drops its MongoDB database. For throwaway clusters only: the demo and benchmarks.
 */
export async function clearClusterData(redisUrl: string, mongoUrl: string, prefix: string, mongoDb: string): Promise<void> {
  const redis = new Redis(redisUrl);
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      if (keys.length) await redis.del(...keys);
      cursor = next;
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
  const mongo = new MongoClient(mongoUrl);
  try {
    await mongo.db(mongoDb).dropDatabase();
  } finally {
    await mongo.close();
  }
}
