import { Redis, type RedisOptions } from 'ioredis';
import { GatewayStateConfigError, type RedisUnavailableError } from './errors';
import { RedisHealth, type Guarded, type RedisHealthOptions } from './redis-health';

/**
 * How the primitives talk to Redis. LiteLLM's failure mode we avoid: with Redis unreachable every
 * request waited for Redis. Here each call has a hard timeout, a failed call falls back to
 * per-process state, and one {@link RedisHealth} per client remembers the failure for every
 * primitive, so a caller waits at most `timeoutMs` once per outage, not once per primitive and call.
 */
export interface RedisCallPolicy extends RedisHealthOptions {
  /**
   * The process's shared health of `redis` (one per client): give the same one to the limiter, the
   * cooldowns and the breaker. Without it the primitive keeps a private one built from `timeoutMs`
   * and `probeIntervalMs` (which must then not be set here, but on the shared health).
   */
  health?: RedisHealth;
  /**
   * Told about every operation answered from local state (never thrown). Called once per such
   * operation, so throttle any logging. Must not throw (exceptions are swallowed).
   */
  onRedisError?: (error: RedisUnavailableError) => void;
}

/**
 * Opens an ioredis client suited to the gateway state (the caller owns it and must `quit()` it):
 * - `enableOfflineQueue: false`: while disconnected, commands fail at once instead of being queued
 *   and replayed later (a replayed failure could open a breaker long after the fact);
 * - `maxRetriesPerRequest: 0` and `autoResendUnfulfilledCommands: false`: in-flight commands of a
 *   dropped connection fail instead of being resent on reconnect, for the same reason;
 * - reconnects quickly (50 ms steps, at most 1 s apart) so Redis state wins again soon after an outage;
 * - an `error` listener (`onError`, default: ignore), so connection errors are not printed as
 *   "unhandled error event" by ioredis; the primitives report fallbacks through `onRedisError`.
 */
export function createGatewayRedis(url: string, options: RedisOptions & { onError?: (error: Error) => void } = {}): Redis {
  const { onError, ...extra } = options;
  const redis = new Redis(url, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    autoResendUnfulfilledCommands: false,
    connectTimeout: 1_000,
    retryStrategy: (times) => Math.min(50 * times, 1_000),
    ...extra,
  });
  redis.on('error', onError ?? (() => undefined));
  return redis;
}

/**
 * One primitive's access to Redis: its calls go through the shared {@link RedisHealth} (never longer
 * than its timeout, never throwing) and each fallback is reported to the primitive's `onRedisError`.
 */
export class RedisGuard {
  readonly health: RedisHealth;

  constructor(
    readonly redis: Redis,
    private readonly policy: RedisCallPolicy,
  ) {
    if (policy.health) {
      if (policy.health.redis !== redis) throw new GatewayStateConfigError('health', 'belongs to another Redis client than `redis`');
      if (policy.timeoutMs !== undefined || policy.probeIntervalMs !== undefined) {
        throw new GatewayStateConfigError('timeoutMs', 'set timeoutMs and probeIntervalMs on the shared RedisHealth, not on each primitive');
      }
    }
    this.health = policy.health ?? new RedisHealth(redis, { timeoutMs: policy.timeoutMs, probeIntervalMs: policy.probeIntervalMs });
  }

  async run<T>(operation: string, call: (redis: Redis) => Promise<T>): Promise<Guarded<T>> {
    const answer = await this.health.run(operation, call);
    if (!answer.ok) {
      try {
        this.policy.onRedisError?.(answer.error);
      } catch {
        // The caller's reporting must not turn a fallback into a failure.
      }
    }
    return answer;
  }
}

/**
 * Resolves `true` once `redis` is connected and ready, `false` after `timeoutMs` (never throws).
 * With a fail-fast client (see {@link createGatewayRedis}) calls made before that answer locally with
 * `degraded: true`, so a process should await this at startup before serving.
 */
export async function waitForRedis(redis: Redis, timeoutMs = 5_000): Promise<boolean> {
  if (redis.status === 'ready') return true;
  if (redis.status === 'wait') redis.connect().catch(() => undefined);
  return new Promise<boolean>((resolve) => {
    const done = (ready: boolean): void => {
      clearTimeout(timer);
      redis.off('ready', onReady);
      resolve(ready);
    };
    const onReady = (): void => done(true);
    const timer = setTimeout(() => done(redis.status === 'ready'), timeoutMs);
    redis.on('ready', onReady);
  });
}
