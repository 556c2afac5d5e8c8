import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { EstimateExceedsLimitError, GatewayStateConfigError } from './errors';
import { LocalRateWindows } from './local-window';
import { RedisGuard, type RedisCallPolicy } from './redis';
import { queueScript, runScript, scriptPipeline } from './scripts';

/** Limits of one quota scope. At least one must be set; an unset limit is not enforced. */
export interface RateLimits {
  /** Requests per window (per minute with the default window). Integer ≥ 1. */
  rpm?: number;
  /** Tokens per window (per minute with the default window). Integer ≥ 1. */
  tpm?: number;
}

/** What {@link RateLimiter.tryAcquire} is asked for. */
export interface AcquireRequest extends RateLimits {
  /** Tokens reserved now and replaced by the actual count in {@link RateLimiter.reconcile}. Default 0; rounded up. */
  estimatedTokens?: number;
}

/** A granted request. Pass it to `reconcile` after the call (or `release` if the call was never made). */
export interface Reservation {
  readonly scope: string;
  /** Unique id of the request in the scope's log. */
  readonly id: string;
  readonly estimatedTokens: number;
  /** Grant time in µs since the epoch: Redis TIME (the log's score), or this process's clock when degraded. */
  readonly grantedAtUs: number;
  /** Granted by the per-process fallback; reconcile/release then adjust the local log. */
  readonly degraded: boolean;
}

/** Answer of {@link RateLimiter.tryAcquire}. */
export type AcquireResult =
  | { ok: true; reservation: Reservation; degraded: boolean }
  | {
      ok: false;
      /** When enough entries leave the window for this request to fit (from the window's contents; in-flight
       * reservations reconciled downwards can free capacity earlier). */
      retryAfterMs: number;
      /** The exhausted limit; the one with the longer wait when both are. */
      reason: 'rpm' | 'tpm';
      degraded: boolean;
    };

/** Capacity left in a scope's current window. `Infinity` for a limit that is not set. */
export interface ScopeCapacity {
  requests: number;
  tokens: number;
  /** Counted from this process's fallback log, not from Redis. */
  degraded: boolean;
}

export interface RateLimiterOptions extends RedisCallPolicy {
  /** A client from {@link createGatewayRedis} (or one configured alike); the caller owns it. */
  redis: Redis;
  /** Key prefix shared by all processes of the cluster, e.g. `it`. */
  prefix: string;
  /** Length of the sliding window. Default 60 000 ms (RPM/TPM); tests use a shorter one. */
  windowMs?: number;
  /**
   * Share of each limit this process may use on its own while Redis is unavailable, in (0, 1].
   * Default 1 (each process enforces the whole limit locally: the cluster may then exceed it up to
   * the number of processes during an outage; set 1 / processes to stay within it).
   */
  degradedShare?: number;
}

const reasons = { 1: 'rpm', 2: 'tpm' } as const;

/** Redis keys of a scope's log; both carry the hash tag `{scope}` so the scripts also run on Redis Cluster. */
export function rateLimitKeys(prefix: string, scope: string): [log: string, tokens: string] {
  return [`${prefix}:rl:{${scope}}:log`, `${prefix}:rl:{${scope}}:tok`];
}

function checkLimit(name: string, value: number | undefined): void {
  if (value !== undefined && (!Number.isInteger(value) || value < 1)) throw new GatewayStateConfigError(name, `must be an integer ≥ 1, got ${value}`);
}

/**
 * Cluster-wide RPM/TPM limiter per quota scope (e.g. `gemini|project-a|gemini-2.5-flash`), over a
 * sliding log in Redis shared by every process.
 *
 * Guarantees while Redis answers:
 * - RPM is exact for every window: no interval [t, t + windowMs) holds more than `rpm` grants,
 *   whatever the number of processes (one Lua script checks and records atomically, on Redis TIME).
 * - TPM: the check and the reservation of `estimatedTokens` happen in the same script as the RPM
 *   check; `reconcile` replaces the estimate by the actual count at the same grant time. A window can
 *   exceed `tpm` only by what in-flight reservations under-estimated.
 * - Entries leave the log after `windowMs` and the keys expire when a scope is idle.
 *
 * When Redis is slow or away (see {@link RedisCallPolicy}): no call throws or waits longer than
 * `timeoutMs` (with a shared RedisHealth only calls already waiting on Redis when it fails wait);
 * answers come from a per-process sliding log with limits × `degradedShare` and carry `degraded: true`. Those grants are not written to Redis afterwards, and a `reconcile` of a Redis
 * reservation that cannot reach Redis is dropped (the estimate stays counted).
 */
export class RateLimiter {
  private readonly redis: Redis;
  private readonly prefix: string;
  private readonly windowMs: number;
  private readonly share: number;
  private readonly guard: RedisGuard;
  private readonly local: LocalRateWindows;

  constructor(options: RateLimiterOptions) {
    this.redis = options.redis;
    this.prefix = options.prefix;
    this.windowMs = options.windowMs ?? 60_000;
    this.share = options.degradedShare ?? 1;
    if (!Number.isInteger(this.windowMs) || this.windowMs < 1) throw new GatewayStateConfigError('windowMs', `must be an integer ≥ 1, got ${this.windowMs}`);
    if (!(this.share > 0 && this.share <= 1)) throw new GatewayStateConfigError('degradedShare', `must be in (0, 1], got ${this.share}`);
    this.guard = new RedisGuard(options.redis, options);
    this.local = new LocalRateWindows(this.windowMs);
  }

  /**
   * Admits one request of `scope` if it fits both limits, reserving `estimatedTokens`.
   * Throws {@link EstimateExceedsLimitError} if the estimate exceeds `tpm` (it could never fit) and
   * {@link GatewayStateConfigError} for invalid limits; never throws for Redis problems.
   */
  async tryAcquire(scope: string, request: AcquireRequest): Promise<AcquireResult> {
    const { rpm, tpm } = request;
    checkLimit('rpm', rpm);
    checkLimit('tpm', tpm);
    if (rpm === undefined && tpm === undefined) throw new GatewayStateConfigError('limits', 'set rpm, tpm or both');
    const raw = request.estimatedTokens ?? 0;
    if (!Number.isFinite(raw) || raw < 0) throw new GatewayStateConfigError('estimatedTokens', `must be a finite number ≥ 0, got ${raw}`);
    const estimate = Math.ceil(raw);
    if (tpm !== undefined && estimate > tpm) throw new EstimateExceedsLimitError(scope, estimate, tpm);

    const id = randomBytes(9).toString('base64url');
    const answer = await this.guard.run('limiter.tryAcquire', (redis) =>
      runScript(redis, 'rateAcquire', rateLimitKeys(this.prefix, scope), [this.windowMs, rpm ?? -1, tpm ?? -1, estimate, id]),
    );
    if (answer.ok) {
      const reply = answer.value as number[];
      if (reply[0] === 1) {
        return { ok: true, degraded: false, reservation: { scope, id, estimatedTokens: estimate, grantedAtUs: reply[1]!, degraded: false } };
      }
      return { ok: false, degraded: false, reason: reasons[reply[1] as 1 | 2], retryAfterMs: Math.max(1, Math.ceil(reply[2]! / 1000)) };
    }

    const localRpm = rpm === undefined ? undefined : Math.max(1, Math.floor(rpm * this.share));
    // A share smaller than one request's estimate must not make that request impossible.
    const localTpm = tpm === undefined ? undefined : Math.max(estimate, Math.floor(tpm * this.share));
    const local = this.local.tryAcquire(scope, localRpm, localTpm, estimate, id);
    if (!local.ok) return { ok: false, degraded: true, reason: local.reason, retryAfterMs: local.retryAfterMs };
    return { ok: true, degraded: true, reservation: { scope, id, estimatedTokens: estimate, grantedAtUs: local.atMs * 1000, degraded: true } };
  }

  /**
   * Replaces the reservation's estimate with `actualTokens` (what the provider reported), atomically
   * with the scope's token sum. `applied: false` when the reservation already left the window (it no
   * longer counts, so there is nothing to correct) or Redis could not be reached (`degraded: true`).
   */
  async reconcile(reservation: Reservation, actualTokens: number): Promise<{ applied: boolean; degraded: boolean }> {
    if (!Number.isFinite(actualTokens) || actualTokens < 0) throw new GatewayStateConfigError('actualTokens', `must be a finite number ≥ 0, got ${actualTokens}`);
    const actual = Math.ceil(actualTokens);
    if (reservation.degraded) return { applied: this.local.reconcile(reservation.scope, reservation.id, actual), degraded: true };
    const answer = await this.guard.run('limiter.reconcile', (redis) =>
      runScript(redis, 'rateReconcile', rateLimitKeys(this.prefix, reservation.scope), [reservation.id, actual]),
    );
    if (!answer.ok) return { applied: false, degraded: true };
    return { applied: (answer.value as number[])[0] === 1, degraded: false };
  }

  /**
   * Gives back a reservation whose request was never sent to the provider (its slot and tokens).
   * Never use it for a request the provider saw: that one counts against the provider's quota.
   */
  async release(reservation: Reservation): Promise<{ released: boolean; degraded: boolean }> {
    if (reservation.degraded) return { released: this.local.release(reservation.scope, reservation.id), degraded: true };
    const answer = await this.guard.run('limiter.release', (redis) => runScript(redis, 'rateRelease', rateLimitKeys(this.prefix, reservation.scope), [reservation.id]));
    if (!answer.ok) return { released: false, degraded: true };
    return { released: answer.value === 1, degraded: false };
  }

  /**
   * Capacity left right now in each scope (requests and tokens; never below 0), in one round trip
   * (a pipeline of one read script per scope), e.g. to pick the key with the most room. A snapshot:
   * another process may take the capacity before you do, so still call `tryAcquire`.
   * `limits` is one set for all scopes or a function of the scope. (The pipeline spans several hash
   * tags: fine on a single Redis; on Redis Cluster it would have to be split per node.)
   */
  async remaining(scopes: readonly string[], limits: RateLimits | ((scope: string) => RateLimits)): Promise<Map<string, ScopeCapacity>> {
    const unique = [...new Set(scopes)];
    const limitsOf = typeof limits === 'function' ? limits : () => limits;
    const result = new Map<string, ScopeCapacity>();
    if (unique.length === 0) return result;
    const capacity = (scope: string, count: number, tokens: number, degraded: boolean): ScopeCapacity => {
      const { rpm, tpm } = limitsOf(scope);
      return {
        requests: rpm === undefined ? Infinity : Math.max(0, (degraded ? Math.max(1, Math.floor(rpm * this.share)) : rpm) - count),
        tokens: tpm === undefined ? Infinity : Math.max(0, (degraded ? Math.floor(tpm * this.share) : tpm) - tokens),
        degraded,
      };
    };
    const answer = await this.guard.run('limiter.remaining', (redis) => {
      const pipeline = scriptPipeline(redis);
      for (const scope of unique) queueScript(pipeline, 'rateUsage', rateLimitKeys(this.prefix, scope), [this.windowMs]);
      return pipeline.exec();
    });
    unique.forEach((scope, i) => {
      const entry = answer.ok ? answer.value?.[i] : undefined;
      if (entry && !entry[0]) {
        const [count, tokens] = entry[1] as number[];
        result.set(scope, capacity(scope, count!, tokens!, false));
      } else {
        const usage = this.local.usage(scope);
        result.set(scope, capacity(scope, usage.count, usage.tokens, true));
      }
    });
    return result;
  }
}
