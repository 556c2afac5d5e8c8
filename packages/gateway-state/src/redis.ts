import { Redis, ReplyError, type RedisOptions } from 'ioredis';
import { RedisUnavailableError, type RedisUnavailableKind } from './errors';

/**
 * How the primitives talk to Redis. LiteLLM's failure mode we avoid: with Redis unreachable every
 * request waited for Redis. Here each call has a hard timeout and a failed call falls back to
 * per-process state, so a caller waits at most `timeoutMs` (and not even that during `backoffMs`).
 */
export interface RedisCallPolicy {
  /** Longest wait for one Redis round trip before answering from local state. Default 75 ms. */
  timeoutMs?: number;
  /**
   * After a timeout or a connection error, answer from local state at once for this long instead of
   * paying the timeout on every call; then try Redis again. Default 250 ms.
   */
  backoffMs?: number;
  /**
   * Told about every operation answered from local state (never thrown). Called once per such
   * operation, so throttle any logging. Must not throw (exceptions are swallowed).
   */
  onRedisError?: (error: RedisUnavailableError) => void;
}

export const DEFAULT_TIMEOUT_MS = 75;
export const DEFAULT_BACKOFF_MS = 250;

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

/** Result of {@link RedisGuard.run}: Redis's answer, or why there is none. */
export type Guarded<T> = { ok: true; value: T } | { ok: false; error: RedisUnavailableError };

const TIMED_OUT: unique symbol = Symbol('timed out');

/**
 * Runs Redis calls with the {@link RedisCallPolicy}: never longer than `timeoutMs`, never throwing.
 * Used by every primitive; one per primitive instance.
 */
export class RedisGuard {
  private readonly timeoutMs: number;
  private readonly backoffMs: number;
  private skipUntil = 0;
  private skipKind: RedisUnavailableKind = 'timeout';

  constructor(
    readonly redis: Redis,
    private readonly policy: RedisCallPolicy,
  ) {
    this.timeoutMs = policy.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.backoffMs = policy.backoffMs ?? DEFAULT_BACKOFF_MS;
  }

  async run<T>(operation: string, call: (redis: Redis) => Promise<T>): Promise<Guarded<T>> {
    const status = this.redis.status;
    if (status !== 'ready') {
      // A lazyConnect client that was never used: start connecting, answer locally meanwhile.
      if (status === 'wait') this.redis.connect().catch(() => undefined);
      return this.fail('not_connected', operation);
    }
    if (Date.now() < this.skipUntil) return this.fail(this.skipKind, operation);

    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<typeof TIMED_OUT>((resolve) => {
      timer = setTimeout(() => resolve(TIMED_OUT), this.timeoutMs);
    });
    const pending = call(this.redis);
    // The command may still settle after we gave up on it; its outcome no longer matters.
    pending.catch(() => undefined);
    try {
      const value = await Promise.race([pending, timeout]);
      if (value === TIMED_OUT) return this.fail('timeout', operation, undefined, true);
      this.skipUntil = 0;
      return { ok: true, value };
    } catch (error) {
      // A reply error is Redis answering (e.g. OOM): the connection is fine, keep using it.
      if (error instanceof ReplyError) return this.fail('reply', operation, error);
      return this.fail('connection', operation, error, true);
    } finally {
      clearTimeout(timer);
    }
  }

  private fail(kind: RedisUnavailableKind, operation: string, cause?: unknown, backOff = false): Guarded<never> {
    if (backOff) {
      this.skipUntil = Date.now() + this.backoffMs;
      this.skipKind = kind;
    }
    const error = new RedisUnavailableError(kind, operation, cause === undefined ? undefined : { cause });
    try {
      this.policy.onRedisError?.(error);
    } catch {
      // The caller's reporting must not turn a fallback into a failure.
    }
    return { ok: false, error };
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
