import type { BreakerDecision, BreakerState, BreakerTransition, BreakerTransitionReason, BreakerView, ResolvedBreakerConfig } from './breaker-types';

/**
 * A breaker of this process alone, following exactly the rules of breaker_*.lua on this process's
 * clock. Used only while Redis is unavailable, starting from the last state learned from Redis (so an
 * outage does not close an open breaker). Its "exactly one probe" holds within this process only.
 * Its `seq` starts at the seed's and counts local transitions on from there, so an outcome of a call
 * admitted by Redis under that state still counts here, and one admitted before a local transition
 * does not (the caller compares seqs before `record`).
 */
export class LocalBreaker {
  private st: BreakerState = 'closed';
  private untilMs = 0;
  private cf = 0;
  private lease = 0;
  private reopen = 0;
  private sequence = 0;
  private readonly buckets = new Map<number, { s: number; f: number }>();

  constructor(
    readonly id: string,
    seed?: BreakerView,
  ) {
    if (seed) {
      this.st = seed.state;
      this.untilMs = seed.openUntil;
      this.lease = seed.leaseUntil;
      this.sequence = seed.seq;
    }
  }

  get state(): BreakerState {
    return this.st;
  }

  /** Sequence number of the current state (see the class comment). */
  get seq(): number {
    return this.sequence;
  }

  /** Like breaker_acquire.lua; a granted probe holds the lease for `leaseMs` (default: the config's). */
  acquire(config: ResolvedBreakerConfig, now: number, leaseMs = config.probeLeaseMs): { decision: BreakerDecision; retryAfterMs: number; event?: BreakerTransition } {
    if (this.st === 'closed') return { decision: 'closed', retryAfterMs: 0 };
    if (this.st === 'open') {
      if (now < this.untilMs) return { decision: 'open', retryAfterMs: this.untilMs - now };
      this.lease = now + leaseMs;
      return { decision: 'probe', retryAfterMs: 0, event: this.transition('half_open', 'probe_granted', now) };
    }
    if (now < this.lease) return { decision: 'open', retryAfterMs: this.lease - now };
    this.lease = now + leaseMs;
    return { decision: 'probe', retryAfterMs: 0 };
  }

  record(config: ResolvedBreakerConfig, outcome: 'success' | 'failure', probe: boolean, now: number): BreakerTransition | undefined {
    if (this.st === 'closed') {
      let calls = 0;
      let failures = 0;
      if (config.errorRate) {
        const bucketMs = Math.ceil(config.errorRate.windowMs / 10);
        const n = Math.floor(now / bucketMs);
        const bucket = this.buckets.get(n) ?? { s: 0, f: 0 };
        if (outcome === 'success') bucket.s++;
        else bucket.f++;
        this.buckets.set(n, bucket);
        for (const [bn, b] of this.buckets) {
          if (bn <= n - 10) this.buckets.delete(bn);
          else {
            calls += b.s + b.f;
            failures += b.f;
          }
        }
      }
      if (outcome === 'success') {
        this.cf = 0;
        return undefined;
      }
      this.cf++;
      if (this.cf >= config.failureThreshold) {
        this.reopen = 0;
        return this.open(config.openMs, 'consecutive_failures', now);
      }
      if (config.errorRate && calls >= config.errorRate.minCalls && failures >= config.errorRate.threshold * calls) {
        this.reopen = 0;
        return this.open(config.openMs, 'error_rate', now);
      }
      return undefined;
    }
    if (this.st === 'half_open' && probe) {
      if (outcome === 'success') {
        this.untilMs = this.lease = this.cf = this.reopen = 0;
        this.buckets.clear();
        return this.transition('closed', 'probe_succeeded', now);
      }
      this.reopen++;
      return this.open(Math.floor(Math.min(config.openMs * config.backoffMultiplier ** this.reopen, config.maxOpenMs)), 'probe_failed', now);
    }
    return undefined;
  }

  forceOpen(forMs: number, now: number): BreakerTransition | undefined {
    this.untilMs = Math.max(this.untilMs, now + forMs);
    if (this.st === 'open') return undefined;
    this.lease = this.cf = 0;
    this.buckets.clear();
    return this.transition('open', 'forced', now);
  }

  private open(durationMs: number, reason: BreakerTransitionReason, now: number): BreakerTransition {
    this.untilMs = Math.max(this.untilMs, now + durationMs);
    this.lease = this.cf = 0;
    this.buckets.clear();
    return this.transition('open', reason, now);
  }

  private transition(to: BreakerState, reason: BreakerTransitionReason, now: number): BreakerTransition {
    const from = this.st;
    this.st = to;
    this.sequence++;
    return { id: this.id, from, to, at: now, reason, seq: this.sequence, openUntil: this.untilMs, leaseUntil: this.lease, source: 'local' };
  }
}
