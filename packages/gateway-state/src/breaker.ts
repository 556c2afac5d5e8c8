import type { Redis } from 'ioredis';
import { GatewayStateConfigError } from './errors';
import { LocalBreaker } from './breaker-local';
import { resolveBreakerConfig, type BreakerConfig, type BreakerDecision, type BreakerState, type BreakerTransition, type BreakerView, type ResolvedBreakerConfig } from './breaker-types';
import { breakerEventsChannel, parseBreakerEvent, type BreakerWatcher } from './breaker-watcher';
import { RedisGuard, type RedisCallPolicy } from './redis';
import { runScript } from './scripts';

export interface CircuitBreakerOptions extends RedisCallPolicy {
  /** A client from {@link createGatewayRedis} (or one configured alike); the caller owns it. */
  redis: Redis;
  /** Key prefix shared by all processes of the cluster. */
  prefix: string;
  /** Rules; every process must use the same ones for the same breaker ids. */
  config?: BreakerConfig;
  /** This process's watcher: lets `acquire` answer from memory. Without one every `acquire` asks Redis. */
  watcher?: BreakerWatcher;
  /**
   * Called for each transition caused by a call of THIS instance (once per transition cluster-wide,
   * so it suits incident logging), including `source: 'local'` ones while Redis is unavailable.
   * Transitions made by other processes arrive through `watcher.onEvent` instead. Must not throw.
   */
  onTransition?: (event: BreakerTransition) => void;
}

/** Answer of {@link CircuitBreaker.acquire}. */
export interface BreakerAcquireResult {
  decision: BreakerDecision;
  /** The breaker's state after this call. */
  state: BreakerState;
  /** With `open`: when the open period or the running probe's lease ends (0 otherwise). */
  retryAfterMs: number;
  /** Answered by this process's fallback breaker because Redis was unavailable. */
  degraded: boolean;
  /** Answered from the watcher's cache without a Redis round trip. */
  cached: boolean;
  /** The transition this call caused (open → half_open when it got the probe). */
  event?: BreakerTransition;
}

/** Answer of {@link CircuitBreaker.onSuccess}, {@link CircuitBreaker.onFailure} and {@link CircuitBreaker.forceOpen}. */
export interface BreakerOutcomeResult {
  state: BreakerState;
  /** The transition this call caused, if any. */
  event?: BreakerTransition;
  degraded: boolean;
}

/** Redis keys of breaker `id`, sharing the hash tag `{id}` (Redis Cluster). */
export function breakerKeys(prefix: string, id: string): [state: string, window: string] {
  return [`${prefix}:br:{${id}}`, `${prefix}:br:{${id}}:win`];
}

type Reply = [decision: string, state: BreakerState, seq: number, untilMs: number, leaseMs: number, nowMs: number, event: string, cf: number];

/**
 * Circuit breakers per id (e.g. `provider:gemini`, `key:<id>`) whose state lives in Redis and is
 * shared by every process.
 *
 * Rules (see lua/breaker_record.lua): closed → open after `failureThreshold` consecutive failures or
 * when the error-rate rule fires; open for `openMs` (a failed probe re-opens for openMs ×
 * backoffMultiplier^n, capped at maxOpenMs; no opening ever shortens an open period); then exactly
 * one caller cluster-wide gets `probe` (with a lease of `probeLeaseMs`; when it runs out the next
 * caller probes instead); its success closes the breaker, its failure re-opens it.
 *
 * Guarantees while Redis answers: each decision and transition is one atomic Lua script on Redis
 * TIME; every transition is published on `<prefix>:breaker:events` by the same script and returned to
 * the caller that caused it. Report only provider-side failures (5xx, timeouts, overload) with
 * `onFailure`, not the caller's own errors (400s), and report the probe's outcome with `{ probe: true }`.
 *
 * When Redis is slow or away: no call throws or waits longer than `timeoutMs`; answers come from a
 * per-process breaker with the same rules (`degraded: true`), seeded from the last state this process
 * learned from Redis. As soon as Redis answers again, its state wins and the local one is dropped
 * (local failures are not carried over).
 */
export class CircuitBreaker {
  readonly config: ResolvedBreakerConfig;
  private readonly redis: Redis;
  private readonly prefix: string;
  private readonly channel: string;
  private readonly guard: RedisGuard;
  private readonly watcher: BreakerWatcher | undefined;
  private readonly onTransition: ((event: BreakerTransition) => void) | undefined;
  private readonly known = new Map<string, BreakerView>();
  private readonly locals = new Map<string, LocalBreaker>();

  constructor(options: CircuitBreakerOptions) {
    this.config = resolveBreakerConfig(options.config);
    this.redis = options.redis;
    this.prefix = options.prefix;
    this.channel = breakerEventsChannel(options.prefix);
    this.guard = new RedisGuard(options.redis, options);
    this.watcher = options.watcher;
    this.onTransition = options.onTransition;
  }

  /** May the caller call? `closed`: yes; `probe`: yes, as the one half-open probe; `open`: no. */
  async acquire(id: string): Promise<BreakerAcquireResult> {
    const now = Date.now();
    const view = this.watcher?.state(id);
    if (view) {
      if (view.state === 'closed') return { decision: 'closed', state: 'closed', retryAfterMs: 0, degraded: false, cached: true };
      // Open periods are never shortened, so "open until T" stays true until T without asking again.
      if (view.state === 'open' && now < view.openUntil) return { decision: 'open', state: 'open', retryAfterMs: view.openUntil - now, degraded: false, cached: true };
      if (view.state === 'half_open' && now < view.leaseUntil) return { decision: 'open', state: 'half_open', retryAfterMs: view.leaseUntil - now, degraded: false, cached: true };
    }
    const [stateKey] = breakerKeys(this.prefix, id);
    const answer = await this.guard.run('breaker.acquire', (redis) => runScript(redis, 'breakerAcquire', [stateKey], [this.channel, id, this.config.probeLeaseMs, this.config.stateTtlMs]));
    if (answer.ok) {
      const reply = answer.value as Reply;
      const learned = this.learn(id, reply);
      const event = this.announce(reply[6]);
      const decision = reply[0] as BreakerDecision;
      const until = reply[1] === 'half_open' ? learned.leaseUntil : learned.openUntil;
      return { decision, state: reply[1], retryAfterMs: decision === 'open' ? Math.max(0, until - Date.now()) : 0, degraded: false, cached: false, ...(event && { event }) };
    }
    const local = this.localBreaker(id);
    const result = local.acquire(this.config, Date.now());
    if (result.event) this.emit(result.event);
    return { decision: result.decision, state: local.state, retryAfterMs: result.retryAfterMs, degraded: true, cached: false, ...(result.event && { event: result.event }) };
  }

  /** Reports a successful call (`probe: true` if it was the probe granted by `acquire`). */
  onSuccess(id: string, options: { probe?: boolean } = {}): Promise<BreakerOutcomeResult> {
    return this.record(id, 'success', options.probe === true);
  }

  /** Reports a provider-side failure (`probe: true` if it was the probe granted by `acquire`). */
  onFailure(id: string, options: { probe?: boolean } = {}): Promise<BreakerOutcomeResult> {
    return this.record(id, 'failure', options.probe === true);
  }

  /**
   * Opens breaker `id` for at least `forMs` from now (e.g. a provider announced an outage); an
   * already longer open period is kept. A transition (reason `forced`) unless it was already open.
   */
  async forceOpen(id: string, forMs: number): Promise<BreakerOutcomeResult> {
    if (!Number.isInteger(forMs) || forMs < 1) throw new GatewayStateConfigError('forMs', `must be an integer ≥ 1, got ${forMs}`);
    const answer = await this.guard.run('breaker.forceOpen', (redis) =>
      runScript(redis, 'breakerForceOpen', breakerKeys(this.prefix, id), [this.channel, id, forMs, this.config.stateTtlMs]),
    );
    if (answer.ok) return this.outcome(id, answer.value as Reply);
    const event = this.localBreaker(id).forceOpen(forMs, Date.now());
    if (event) this.emit(event);
    return { state: 'open', degraded: true, ...(event && { event }) };
  }

  private async record(id: string, outcome: 'success' | 'failure', probe: boolean): Promise<BreakerOutcomeResult> {
    const c = this.config;
    const rate = c.errorRate;
    const answer = await this.guard.run(`breaker.${outcome === 'success' ? 'onSuccess' : 'onFailure'}`, (redis) =>
      runScript(redis, 'breakerRecord', breakerKeys(this.prefix, id), [
        this.channel,
        id,
        outcome,
        probe ? '1' : '0',
        c.failureThreshold,
        rate ? rate.threshold : -1,
        rate ? rate.windowMs : 0,
        rate ? rate.minCalls : 0,
        c.openMs,
        c.backoffMultiplier,
        c.maxOpenMs,
        c.stateTtlMs,
      ]),
    );
    if (answer.ok) return this.outcome(id, answer.value as Reply);
    const local = this.localBreaker(id);
    const event = local.record(c, outcome, probe, Date.now());
    if (event) this.emit(event);
    return { state: local.state, degraded: true, ...(event && { event }) };
  }

  private outcome(id: string, reply: Reply): BreakerOutcomeResult {
    this.learn(id, reply);
    const event = this.announce(reply[6]);
    return { state: reply[1], degraded: false, ...(event && { event }) };
  }

  /** Records what Redis said (deadlines moved to this process's clock); Redis state wins over any local fallback. */
  private learn(id: string, reply: Reply): BreakerView {
    const observedAt = Date.now();
    const [, state, seq, untilMs, leaseMs, nowMs] = reply;
    const view: BreakerView = {
      state,
      openUntil: untilMs > 0 ? observedAt + (untilMs - nowMs) : 0,
      leaseUntil: leaseMs > 0 ? observedAt + (leaseMs - nowMs) : 0,
      seq,
      observedAt,
    };
    this.known.set(id, view);
    this.watcher?.observe(id, view);
    this.locals.delete(id);
    return view;
  }

  private announce(json: string): BreakerTransition | undefined {
    if (!json) return undefined;
    const event = parseBreakerEvent(json);
    if (event) this.emit(event);
    return event;
  }

  private emit(event: BreakerTransition): void {
    try {
      this.onTransition?.(event);
    } catch {
      // the caller's logging must not break the breaker
    }
  }

  /** This process's fallback breaker for `id`, created from the newest state learned from Redis. */
  private localBreaker(id: string): LocalBreaker {
    let local = this.locals.get(id);
    if (!local) {
      const mine = this.known.get(id);
      const watched = this.watcher?.lastKnown(id);
      const seed = mine && watched ? (watched.seq > mine.seq || (watched.seq === mine.seq && watched.observedAt > mine.observedAt) ? watched : mine) : (mine ?? watched);
      local = new LocalBreaker(id, seed);
      this.locals.set(id, local);
    }
    return local;
  }
}
