import type { Redis } from 'ioredis';
import type { ContextCache } from '@inner-talk/conversation';
import { METRICS, type MetricsRecorder } from '@inner-talk/telemetry';
import type { Vault } from '@inner-talk/vault';
import { personKeyOf, personKeysOf } from './person-keys';

/** Longest a Redis call of the cache may take before the turn goes on without it. */
const CALL_TIMEOUT_MS = 150;

/**
 * The conversation's long-term context cache in Redis, one key per person. The value holds
 * summaries and self-check results, so it is sealed with the vault like those are in MongoDB (bound
 * to the person's key), and the key names the person by pseudonym only. Entries expire after `ttlSeconds` and are deleted on every write that changes
 * them (the conversation calls `invalidate`), so a stale entry lives at most until the next write.
 *
 * Fails open: a Redis error or a call slower than 150 ms counts as a miss and the context is built
 * from MongoDB; a value that does not open (a retired key) is a miss too. Hits and misses are
 * counted cluster-wide (innertalk_context_cache_total).
 */
export class RedisContextCache implements ContextCache {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly options: { vault: Vault; ttlSeconds: number; metrics?: MetricsRecorder },
  ) {}

  /** The key of a person's cached context (named by their pseudonym under the current key). */
  keyOf(userId: string): string {
    return this.keyNamed(personKeyOf(this.options.vault, userId));
  }

  /** Every key the person's context may be cached under (one per key of the ring), for forget. */
  keysOf(userId: string): string[] {
    return personKeysOf(this.options.vault, userId).map((name) => this.keyNamed(name));
  }

  private keyNamed(person: string): string {
    return `${this.prefix}:ctx:{${person}}`;
  }

  async get(userId: string): Promise<string | null> {
    const key = this.keyOf(userId);
    let value: string | null = null;
    try {
      const sealed = await withTimeout(this.redis.get(key));
      if (sealed !== null) value = this.options.vault.open(sealed, key);
    } catch {
      value = null;
    }
    this.options.metrics?.record([{ spec: METRICS.contextCache, labels: { result: value === null ? 'miss' : 'hit' } }]).catch(() => undefined);
    return value;
  }

  async set(userId: string, context: string): Promise<void> {
    const key = this.keyOf(userId);
    await withTimeout(this.redis.set(key, this.options.vault.seal(context, key), 'EX', this.options.ttlSeconds)).catch(() => undefined);
  }

  async invalidate(userId: string): Promise<void> {
    await withTimeout(this.redis.del(this.keyOf(userId))).catch(() => undefined);
  }
}

function withTimeout<T>(promise: Promise<T>): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('context cache timeout')), CALL_TIMEOUT_MS);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error instanceof Error ? error : new Error(String(error)));
      },
    );
  });
}
