import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';

/** Windows of the active-people gauge, by label. */
export const ACTIVE_PEOPLE_WINDOWS = { '5m': 5 * 60_000, '30m': 30 * 60_000, '24h': 86_400_000 } as const;

const activePeopleKey = (prefix: string) => `${prefix}:active-people`;

/**
 * Cluster-wide count of people who wrote recently, for capacity planning ("active users per
 * instance"). One sorted set: member = a salted hash of the person's chat (no id in Redis or in a
 * metric), score = time of their latest handled update. Writers touch, the metrics app counts and
 * trims. At most one member per person, so memory is bounded by the people active within 24 h.
 */
export class ActivePeople {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {}

  /** Marks the person of `chat` active at `now`. Never throws (a gauge must not fail a turn). */
  async touch(chat: string, now = Date.now()): Promise<void> {
    await this.redis.zadd(activePeopleKey(this.prefix), now, this.memberOf(chat)).catch(() => undefined);
  }

  /** Removes the person of `chat` (their data is being deleted). */
  async forget(chat: string): Promise<void> {
    await this.redis.zrem(activePeopleKey(this.prefix), this.memberOf(chat));
  }

  private memberOf(chat: string): string {
    return createHash('sha256').update(`${this.prefix}|${chat}`).digest('base64url').slice(0, 16);
  }

  /** People active within each window, by label; drops entries older than the longest window. */
  async count(now = Date.now()): Promise<Record<keyof typeof ACTIVE_PEOPLE_WINDOWS, number>> {
    const key = activePeopleKey(this.prefix);
    const longest = Math.max(...Object.values(ACTIVE_PEOPLE_WINDOWS));
    await this.redis.zremrangebyscore(key, '-inf', String(now - longest));
    const entries = Object.entries(ACTIVE_PEOPLE_WINDOWS) as Array<[keyof typeof ACTIVE_PEOPLE_WINDOWS, number]>;
    const counts = await Promise.all(entries.map(([, ms]) => this.redis.zcount(key, String(now - ms), '+inf')));
    return Object.fromEntries(entries.map(([label], i) => [label, counts[i] ?? 0])) as Record<keyof typeof ACTIVE_PEOPLE_WINDOWS, number>;
  }
}
