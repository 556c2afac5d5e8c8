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
  /**
   * The breaker's transition sequence number this decision was made under. Pass it to `onSuccess` /
   * `onFailure` (`{ seq }`), so that the call's outcome is ignored if the breaker changed state
   * while the call ran (it says nothing about the new state).
   */
  seq: number;
  /** The transition this call caused (open → half_open when it got the probe). */
  event?: BreakerTransition;
}

/** Options of {@link CircuitBreaker.acquire}. */
export interface BreakerAcquireOptions {
  /**
   * Lease of the probe if this call gets it (default: the config's `probeLeaseMs`). Make it longer
   * than the protected call can take (its timeout plus a margin): when a lease runs out while its
   * probe still runs, a second caller is granted a probe too.
   */
  probeLeaseMs?: number;
}

/** Options of {@link CircuitBreaker.onSuccess} and {@link CircuitBreaker.onFailure}. */
export interface BreakerOutcomeOptions {
  /** This call was the half-open probe granted by `acquire`. */
  probe?: boolean;
  /** The `seq` returned by the `acquire` that admitted this call; without it the outcome always counts. */
  seq?: number;
}

/** Answer of {@link CircuitBreaker.onSuccess}, {@link CircuitBreaker.onFailure} and {@link CircuitBreaker.forceOpen}. */
export interface BreakerOutcomeResult {
  state: BreakerState;
  /** The transition this call caused, if any. */
  event?: BreakerTransition;
  degraded: boolean;
  /** Present (true) when the outcome was ignored because the breaker changed state since its `acquire` (see `seq`). */
  stale?: true;
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
 * Outcomes reported with the `seq` of their `acquire` count only if the breaker made no transition
 * since, so calls begun under an earlier state neither open nor keep closed the current one.
 *
 * When Redis is slow or away: no call throws or waits longer than `timeoutMs` (and with a shared
 * RedisHealth only calls already waiting on Redis when it fails wait at all); answers come from a
 * per-process breaker with the same rules (`degraded: true`), seeded from the last state (and seq)
 * this process learned from Redis. As soon as Redis answers again, its state wins and the local one is dropped
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

  /**
   * May the caller call? `closed`: yes; `probe`: yes, as the one half-open probe (for
   * `probeLeaseMs`); `open`: no. Throws {@link GatewayStateConfigError} for an invalid lease; never
   * throws for Redis problems.
   */
  async acquire(id: string, options: BreakerAcquireOptions = {}): Promise<BreakerAcquireResult> {
    const leaseMs = this.leaseOf(options.probeLeaseMs);
    const now = Date.now();
    const view = this.watcher?.state(id);
    if (view) {
      const cached = { degraded: false, cached: true, seq: view.seq };
      if (view.state === 'closed') return { decision: 'closed', state: 'closed', retryAfterMs: 0, ...cached };
      // Open periods are never shortened, so "open until T" stays true until T without asking again.
      if (view.state === 'open' && now < view.openUntil) return { decision: 'open', state: 'open', retryAfterMs: view.openUntil - now, ...cached };
      if (view.state === 'half_open' && now < view.leaseUntil) return { decision: 'open', state: 'half_open', retryAfterMs: view.leaseUntil - now, ...cached };
    }
    const [stateKey] = breakerKeys(this.prefix, id);
    const answer = await this.guard.run('breaker.acquire', (redis) => runScript(redis, 'breakerAcquire', [stateKey], [this.channel, id, leaseMs, this.config.stateTtlMs]));
    if (answer.ok) {
      const reply = answer.value as Reply;
      const learned = this.learn(id, reply);
      const event = this.announce(reply[6]);
      const decision = reply[0] as BreakerDecision;
      const until = reply[1] === 'half_open' ? learned.leaseUntil : learned.openUntil;
      return { decision, state: reply[1], retryAfterMs: decision === 'open' ? Math.max(0, until - Date.now()) : 0, degraded: false, cached: false, seq: learned.seq, ...(event && { event }) };
    }
    const local = this.localBreaker(id);
    const result = local.acquire(this.config, Date.now(), leaseMs);
    if (result.event) this.emit(result.event);
    return { decision: result.decision, state: local.state, retryAfterMs: result.retryAfterMs, degraded: true, cached: false, seq: local.seq, ...(result.event && { event: result.event }) };
  }

  /**
   * Reports a successful call: `probe: true` if it was the probe granted by `acquire`, and `seq`
   * from that `acquire` so a call begun under an earlier state is not counted (`stale: true`).
   * Rejects with {@link GatewayStateConfigError} for a `seq` that is not an integer; never for Redis problems.
   */
  onSuccess(id: string, options: BreakerOutcomeOptions = {}): Promise<BreakerOutcomeResult> {
    return this.record(id, 'success', options);
  }

  /** Reports a provider-side failure; `probe` and `seq` as for {@link onSuccess}. */
  onFailure(id: string, options: BreakerOutcomeOptions = {}): Promise<BreakerOutcomeResult> {
    return this.record(id, 'failure', options);
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

  private async record(id: string, outcome: 'success' | 'failure', options: BreakerOutcomeOptions): Promise<BreakerOutcomeResult> {
    const probe = options.probe === true;
    const seq = options.seq;
    if (seq !== undefined && !Number.isSafeInteger(seq)) throw new GatewayStateConfigError('seq', `must be the integer seq returned by acquire, got ${seq}`);
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
        seq ?? '',
      ]),
    );
    if (answer.ok) return this.outcome(id, answer.value as Reply);
    const local = this.localBreaker(id);
    // Same rule as breaker_record.lua: seq 0 is a breaker without history, where every outcome counts.
    if (seq !== undefined && local.seq !== 0 && seq !== local.seq) return { state: local.state, degraded: true, stale: true };
    const event = local.record(c, outcome, probe, Date.now());
    if (event) this.emit(event);
    return { state: local.state, degraded: true, ...(event && { event }) };
  }

  private outcome(id: string, reply: Reply): BreakerOutcomeResult {
    this.learn(id, reply);
    const event = this.announce(reply[6]);
    return { state: reply[1], degraded: false, ...(event && { event }), ...(reply[0] === 'stale' && { stale: true as const }) };
  }

  /** The probe lease of one acquire: the given one (validated) or the configured default. */
  private leaseOf(probeLeaseMs: number | undefined): number {
    if (probeLeaseMs === undefined) return this.config.probeLeaseMs;
    // The state's TTL must outlive an open period plus the lease (see resolveBreakerConfig).
    const max = this.config.stateTtlMs - this.config.maxOpenMs;
    if (!Number.isInteger(probeLeaseMs) || probeLeaseMs < 1 || probeLeaseMs > max) throw new GatewayStateConfigError('probeLeaseMs', `must be an integer in [1, ${max}], got ${probeLeaseMs}`);
    return probeLeaseMs;
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
