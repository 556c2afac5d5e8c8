import { GatewayStateConfigError } from './errors';

/** State of a breaker. `half_open`: the open period is over and one probe call is (or may be) in flight. */
export type BreakerState = 'closed' | 'open' | 'half_open';

/**
 * What {@link CircuitBreaker.acquire} allows: `closed` — call normally; `probe` — you are the one
 * half-open probe (report with `{ probe: true }`); `open` — do not call.
 */
export type BreakerDecision = 'closed' | 'probe' | 'open';

/** Why a transition happened. */
export type BreakerTransitionReason =
  | 'consecutive_failures' // closed → open
  | 'error_rate' // closed → open
  | 'probe_granted' // open → half_open
  | 'probe_succeeded' // half_open → closed
  | 'probe_failed' // half_open → open
  | 'forced'; // closed | half_open → open (forceOpen)

/** One state change of one breaker. */
export interface BreakerTransition {
  id: string;
  from: BreakerState;
  to: BreakerState;
  /** When it happened, epoch ms: Redis TIME, or this process's clock when `source` is `local`. */
  at: number;
  reason: BreakerTransitionReason;
  /** Orders the transitions of one breaker (increasing; µs-based for `redis`; for `local`, counted on from the last seq learned from Redis). */
  seq: number;
  /** End of the open period, epoch ms on the same clock as `at` (0 when closed). */
  openUntil: number;
  /** End of the probe lease, epoch ms on the same clock as `at` (0 when there is none). */
  leaseUntil: number;
  /** `redis`: the cluster-wide breaker (published to every watcher); `local`: this process's fallback while Redis was unavailable. */
  source: 'redis' | 'local';
}

/** Rules of a breaker. Every process using the same breaker ids must use the same rules. */
export interface BreakerConfig {
  /** Consecutive failures (while closed) that open the breaker. Default 3. */
  failureThreshold?: number;
  /**
   * Error-rate rule: open when, over the rolling window, calls ≥ `minCalls` and failures / calls ≥
   * `threshold`. Default `{ threshold: 0.5, windowMs: 60_000, minCalls: 20 }`; `false` disables it.
   */
  errorRate?: { threshold: number; windowMs: number; minCalls: number } | false;
  /** How long the breaker stays open before a probe is allowed. Default 30 000 ms. */
  openMs?: number;
  /** A failed probe re-opens for openMs × multiplier^n (n = failed probes since the last close). Default 2; 1 = no backoff. */
  backoffMultiplier?: number;
  /** Cap of the backed-off open period. Default max(openMs, 300 000 ms). */
  maxOpenMs?: number;
  /**
   * How long the one probe may take before another caller may probe instead (crashed prober). Default
   * 15 000 ms; `acquire` can set it per call (a probe's lease should outlast the call's own timeout).
   */
  probeLeaseMs?: number;
  /** Idle breakers' state expires after this long (every write refreshes it). Default 24 h; at least maxOpenMs + probeLeaseMs. */
  stateTtlMs?: number;
}

export interface ResolvedBreakerConfig {
  failureThreshold: number;
  errorRate: { threshold: number; windowMs: number; minCalls: number } | false;
  openMs: number;
  backoffMultiplier: number;
  maxOpenMs: number;
  probeLeaseMs: number;
  stateTtlMs: number;
}

function positiveInt(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 1) throw new GatewayStateConfigError(name, `must be an integer ≥ 1, got ${value}`);
  return value;
}

/** Applies defaults and rejects rules that cannot work. */
export function resolveBreakerConfig(config: BreakerConfig = {}): ResolvedBreakerConfig {
  const openMs = positiveInt('openMs', config.openMs ?? 30_000);
  const maxOpenMs = positiveInt('maxOpenMs', config.maxOpenMs ?? Math.max(openMs, 300_000));
  if (maxOpenMs < openMs) throw new GatewayStateConfigError('maxOpenMs', `must be ≥ openMs (${openMs}), got ${maxOpenMs}`);
  const probeLeaseMs = positiveInt('probeLeaseMs', config.probeLeaseMs ?? 15_000);
  const stateTtlMs = positiveInt('stateTtlMs', config.stateTtlMs ?? 24 * 3_600_000);
  if (stateTtlMs < maxOpenMs + probeLeaseMs) throw new GatewayStateConfigError('stateTtlMs', `must be ≥ maxOpenMs + probeLeaseMs, got ${stateTtlMs}`);
  const backoffMultiplier = config.backoffMultiplier ?? 2;
  if (!(Number.isFinite(backoffMultiplier) && backoffMultiplier >= 1)) throw new GatewayStateConfigError('backoffMultiplier', `must be ≥ 1, got ${backoffMultiplier}`);
  let errorRate: ResolvedBreakerConfig['errorRate'] = false;
  if (config.errorRate !== false) {
    const rule = config.errorRate ?? { threshold: 0.5, windowMs: 60_000, minCalls: 20 };
    if (!(rule.threshold > 0 && rule.threshold <= 1)) throw new GatewayStateConfigError('errorRate.threshold', `must be in (0, 1], got ${rule.threshold}`);
    errorRate = { threshold: rule.threshold, windowMs: positiveInt('errorRate.windowMs', rule.windowMs), minCalls: positiveInt('errorRate.minCalls', rule.minCalls) };
  }
  return { failureThreshold: positiveInt('failureThreshold', config.failureThreshold ?? 3), errorRate, openMs, backoffMultiplier, maxOpenMs, probeLeaseMs, stateTtlMs };
}

/**
 * What one process knows about a breaker, with deadlines converted to this process's clock (so
 * clock skew between machines does not matter: only Redis's own differences are used).
 */
export interface BreakerView {
  state: BreakerState;
  /** End of the open period on this process's clock (0 if not open). */
  openUntil: number;
  /** End of the probe lease on this process's clock (0 if none). */
  leaseUntil: number;
  seq: number;
  /** When this process learned it (Date.now()). */
  observedAt: number;
}
