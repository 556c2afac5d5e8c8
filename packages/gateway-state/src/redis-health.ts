import { ReplyError, type Redis } from 'ioredis';
import { GatewayStateConfigError, RedisUnavailableError, type RedisUnavailableKind } from './errors';

/** Longest wait for one Redis round trip before answering from local state. */
export const DEFAULT_TIMEOUT_MS = 75;
/** How often a background PING checks whether Redis answers again while it is marked unavailable. */
export const DEFAULT_PROBE_INTERVAL_MS = 250;

export interface RedisHealthOptions {
  /** Longest wait for one Redis round trip before answering from local state. Default 75 ms. */
  timeoutMs?: number;
  /**
   * While Redis is marked unavailable, a PING is sent this often (never more than one in flight);
   * Redis counts as back once a PING answers within `timeoutMs`. Default 250 ms.
   */
  probeIntervalMs?: number;
}

/** Result of {@link RedisHealth.run}: Redis's answer, or why there is none. */
export type Guarded<T> = { ok: true; value: T } | { ok: false; error: RedisUnavailableError };

const TIMED_OUT: unique symbol = Symbol('timed out');

function positiveInt(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 1) throw new GatewayStateConfigError(name, `must be an integer ≥ 1, got ${value}`);
  return value;
}

/**
 * Whether this process should ask Redis at all right now: one per Redis client, shared by every
 * primitive on it (rate limiter, cooldowns, breaker), so an outage costs a model call at most one
 * timeout instead of one per primitive and per call.
 *
 * Guarantees:
 * - {@link run} never throws and never waits longer than `timeoutMs` (plus the event loop's lag);
 * - after a timeout or a connection error, every `run` of every primitive sharing this health
 *   answers at once with `ok: false` (the same kind), without sending anything to Redis, until a
 *   background PING (at most one in flight, every `probeIntervalMs`) is answered within `timeoutMs`;
 *   from then on calls go to Redis again, whose state is authoritative;
 * - a reply error (Redis answered, e.g. OOM under `noeviction`) fails only that call: the connection
 *   is fine, so it does not mark Redis unavailable;
 * - while the client is not connected, `run` fails at once (`not_connected`) and leaves recovery to
 *   ioredis's reconnects.
 *
 * Why not a library: ioredis's `commandTimeout` is per command, and its timeout error is a plain
 * `Error` told apart only by its message text; circuit-breaker libraries (opossum, cockatiel) guard
 * one wrapped function each and, when half-open, let a real caller's command through, so with Redis
 * still hung that caller pays the timeout again. Here the state spans every operation on the client
 * and recovery is detected off the callers' path by a PING.
 */
export class RedisHealth {
  readonly timeoutMs: number;
  readonly probeIntervalMs: number;
  /** Why Redis is marked unavailable; undefined while it is not. */
  private downKind: RedisUnavailableKind | undefined;
  private probeTimer: NodeJS.Timeout | undefined;
  private probing = false;
  private closed = false;

  constructor(
    readonly redis: Redis,
    options: RedisHealthOptions = {},
  ) {
    this.timeoutMs = positiveInt('timeoutMs', options.timeoutMs ?? DEFAULT_TIMEOUT_MS);
    this.probeIntervalMs = positiveInt('probeIntervalMs', options.probeIntervalMs ?? DEFAULT_PROBE_INTERVAL_MS);
  }

  /** Whether calls go to Redis now (connected and not marked unavailable). */
  get available(): boolean {
    return this.downKind === undefined && this.redis.status === 'ready';
  }

  /**
   * Runs `call` against Redis within `timeoutMs`, or answers `ok: false` at once while Redis is
   * marked unavailable or not connected. Never throws. A command given up on may still reach Redis;
   * its outcome is ignored.
   */
  async run<T>(operation: string, call: (redis: Redis) => Promise<T>): Promise<Guarded<T>> {
    const status = this.redis.status;
    if (status !== 'ready') {
      // A lazyConnect client that was never used: start connecting, answer locally meanwhile.
      if (status === 'wait') this.redis.connect().catch(() => undefined);
      return failed('not_connected', operation);
    }
    if (this.downKind !== undefined) return failed(this.downKind, operation);

    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<typeof TIMED_OUT>((resolve) => {
      timer = setTimeout(() => resolve(TIMED_OUT), this.timeoutMs);
    });
    const pending = call(this.redis);
    // The command may still settle after we gave up on it; its outcome no longer matters.
    pending.catch(() => undefined);
    try {
      const value = await Promise.race([pending, timeout]);
      if (value === TIMED_OUT) return this.markDown('timeout', operation);
      return { ok: true, value };
    } catch (error) {
      if (error instanceof ReplyError) return failed('reply', operation, error);
      return this.markDown('connection', operation, error);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Stops probing (call it when the client is closed). Idempotent. */
  close(): void {
    this.closed = true;
    this.stopProbing();
  }

  private markDown(kind: RedisUnavailableKind, operation: string, cause?: unknown): Guarded<never> {
    this.downKind = kind;
    if (!this.probeTimer && !this.closed) {
      this.probeTimer = setInterval(() => this.probe(), this.probeIntervalMs);
      // Probing must not keep a process alive that has nothing else to do.
      this.probeTimer.unref();
    }
    return failed(kind, operation, cause);
  }

  private probe(): void {
    // 'end': the owner closed the client, it will not reconnect; nothing left to probe.
    if (this.redis.status === 'end') return this.stopProbing();
    // One PING at a time: on a hung server a second one would only queue behind the first.
    if (this.probing || this.redis.status !== 'ready') return;
    this.probing = true;
    const sentAt = performance.now();
    this.redis.ping().then(
      () => {
        this.probing = false;
        // A late answer (e.g. the first one after a SIGCONT, queued behind everything sent while the
        // server was stopped) proves Redis lives but not that it answers in time: the next PING decides.
        if (performance.now() - sentAt <= this.timeoutMs && !this.closed) {
          this.downKind = undefined;
          this.stopProbing();
        }
      },
      () => {
        this.probing = false;
      },
    );
  }

  private stopProbing(): void {
    clearInterval(this.probeTimer);
    this.probeTimer = undefined;
  }
}

function failed(kind: RedisUnavailableKind, operation: string, cause?: unknown): Guarded<never> {
  return { ok: false, error: new RedisUnavailableError(kind, operation, cause === undefined ? undefined : { cause }) };
}
