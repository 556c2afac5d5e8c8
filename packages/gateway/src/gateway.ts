import { GeminiChatProvider, OpenAIChatProvider, ProviderError, type ChatProvider, type ChatRequest, type ChatResult } from '@inner-talk/llm';
import type { CircuitBreaker, Cooldowns, RateLimiter } from '@inner-talk/gateway-state';
import { callCostUsd, estimateTokens } from './accounting';
import type { ApiKeyConfig, GatewayConfig, ProviderRoute } from './config';
import { AllProvidersUnavailableError, type ProviderSkip } from './errors';

/** One model call the gateway made (or refused to make), for metrics and logs. No user data. */
export interface CallRecord {
  provider: string;
  model: string;
  keyId: string;
  outcome: 'ok' | ProviderError['kind'];
  /** When the attempt started (epoch ms, this process's clock). */
  startedAt: number;
  latencyMs: number;
  /** Time from the start of `complete` to the start of this attempt: what earlier attempts cost. */
  waitedMs: number;
  /** Position in the chain: 0 is the primary. */
  chainIndex: number;
  usage?: ChatResult['usage'];
  costUsd?: number;
}

export interface GatewayObserver {
  onCall?(record: CallRecord): void;
}

export interface GatewayDeps {
  config: GatewayConfig;
  breaker: CircuitBreaker;
  cooldowns: Cooldowns;
  limiter: RateLimiter;
  observer?: GatewayObserver;
  /** Builds the SDK adapter for one key; tests may wrap it. */
  createAdapter?: (route: ProviderRoute, key: ApiKeyConfig) => ChatProvider;
  now?: () => number;
}

/** Do not start a call with less time than this left before the deadline. */
const MIN_CALL_MS = 250;
/** When nothing says when to come back (e.g. every provider just failed with 5xx). */
const DEFAULT_RETRY_MS = 5_000;
const HALF_OPEN_RECHECK_MS = 1_000;
/**
 * A probe's lease is the provider's call timeout plus this: time for the Redis calls around the call
 * (limiter, breaker) and event-loop delays. A lease shorter than the call would let a second caller
 * probe while the first still waits on a hanging provider.
 */
const PROBE_LEASE_MARGIN_MS = 5_000;
/** An invalid key is not going to heal by itself soon. */
const AUTH_COOLDOWN_MS = 60 * 60_000;
const DEFAULT_RATE_LIMIT_COOLDOWN_MS = 30_000;
const BILLING_COOLDOWN_MS = 60 * 60_000;

export function defaultAdapter(route: ProviderRoute, key: ApiKeyConfig): ChatProvider {
  return route.api === 'gemini'
    ? new GeminiChatProvider({ apiKey: key.apiKey, model: route.model, name: route.name, ...(route.baseUrl && { baseUrl: route.baseUrl }) })
    : new OpenAIChatProvider({ apiKey: key.apiKey, model: route.model, name: route.name, ...(route.baseUrl && { baseURL: route.baseUrl }) });
}

function scopeOf(route: ProviderRoute, key: ApiKeyConfig): string {
  return `${route.name}|${key.scope}|${route.model}`;
}

/**
 * Breaker transitions are reported by the CircuitBreaker's own `onTransition` (see createGatewayState),
 * once cluster-wide.
 *
 * The LLM gateway: one `complete` tries the providers of the chain in order, and within a provider
 * its healthy keys with the most remaining capacity first.
 *
 * Guarantees:
 * - the only retry owner inside a call: each SDK makes one HTTP attempt; a provider-side failure
 *   (timeout, 429, 5xx, connection) moves on to the next key (429) or the next provider (others);
 *   our own errors (400) are thrown at once, never retried;
 * - a provider whose breaker is open is skipped without a call; after its open period exactly one
 *   caller cluster-wide probes it;
 * - RPM/TPM are reserved before each call and reconciled with the reported usage after it;
 * - the whole call ends by `request.timeoutMs` (the per-message deadline); each attempt gets
 *   min(provider timeout, time left);
 * - when no provider can answer now it throws AllProvidersUnavailableError with the earliest time
 *   one can be tried again.
 */
export class LlmGateway implements ChatProvider {
  readonly name = 'gateway';
  readonly model: string;
  private readonly adapters = new Map<string, ChatProvider>();
  private readonly now: () => number;

  constructor(private readonly deps: GatewayDeps) {
    this.model = deps.config.chain[0]?.model ?? 'none';
    this.now = deps.now ?? Date.now;
  }

  async complete(request: ChatRequest): Promise<ChatResult> {
    const deadline = this.now() + request.timeoutMs;
    const skips: ProviderSkip[] = [];
    let retryAt = Infinity;
    const later = (at: number) => {
      retryAt = Math.min(retryAt, at);
    };
    const estimate = estimateTokens([request.system, ...request.turns.map((t) => t.text)], request.maxOutputTokens ?? 600);

    const begunAt = this.now();
    for (const [chainIndex, route] of this.deps.config.chain.entries()) {
      const breakerId = `provider:${route.name}`;
      const gate = await this.deps.breaker.acquire(breakerId, { probeLeaseMs: route.timeoutMs + PROBE_LEASE_MARGIN_MS });
      if (gate.decision === 'open') {
        // While another process probes (half-open), its answer may come any moment: look again
        // within a second rather than waiting out the whole probe lease.
        const wait = gate.state === 'half_open' ? Math.min(gate.retryAfterMs, HALF_OPEN_RECHECK_MS) : gate.retryAfterMs;
        later(this.now() + Math.max(wait, 50));
        skips.push({ provider: route.name, reason: 'breaker_open' });
        continue;
      }
      const outcome = await this.tryRoute(route, chainIndex, request, begunAt, deadline, estimate, { probe: gate.decision === 'probe', seq: gate.seq }, later);
      if ('result' in outcome) return outcome.result;
      skips.push({ provider: route.name, reason: outcome.reason });
      if (outcome.fatal) throw outcome.fatal;
    }
    const at = Number.isFinite(retryAt) ? retryAt : this.now() + DEFAULT_RETRY_MS;
    throw new AllProvidersUnavailableError(at, skips);
  }

  private async tryRoute(
    route: ProviderRoute,
    chainIndex: number,
    request: ChatRequest,
    begunAt: number,
    deadline: number,
    estimate: number,
    admitted: { probe: boolean; seq: number },
    later: (at: number) => void,
  ): Promise<{ result: ChatResult } | { reason: ProviderSkip['reason']; fatal?: ProviderError }> {
    const breakerId = `provider:${route.name}`;
    const probe = admitted.probe;
    const { active } = await this.deps.cooldowns.cooldowns(route.keys.map((k) => k.id));
    const usable = route.keys.filter((k) => {
      const cd = active.get(k.id);
      if (cd) later(cd.untilMs);
      return !cd;
    });
    if (usable.length === 0) return { reason: 'keys_cooling_down' };
    const keys = await this.byCapacity(route, usable);
    let reason: ProviderSkip['reason'] = 'rate_limited_here';

    const limited = route.rpm !== undefined || route.tpm !== undefined;
    for (const key of keys) {
      const grant = limited
        ? await this.deps.limiter.tryAcquire(scopeOf(route, key), { rpm: route.rpm, tpm: route.tpm, estimatedTokens: route.tpm ? Math.min(estimate, route.tpm) : estimate })
        : null;
      if (grant && !grant.ok) {
        later(this.now() + grant.retryAfterMs);
        continue;
      }
      const reservation = grant?.reservation;
      const timeLeft = deadline - this.now();
      if (timeLeft < MIN_CALL_MS) {
        if (reservation) await this.deps.limiter.release(reservation);
        return { reason: 'deadline' };
      }
      const startedAt = this.now();
      try {
        const result = await this.adapter(route, key).complete({ ...request, timeoutMs: Math.min(route.timeoutMs, timeLeft) });
        const u = result.usage;
        if (reservation) await this.deps.limiter.reconcile(reservation, u.inputTokens + u.outputTokens + (route.api === 'gemini' ? u.reasoningTokens : 0));
        // With the seq of the acquire: a call begun before the breaker changed state says nothing about the new one.
        await this.deps.breaker.onSuccess(breakerId, admitted);
        const costUsd = callCostUsd(u, route.price, route.api);
        this.deps.observer?.onCall?.({ provider: route.name, model: result.model, keyId: key.id, outcome: 'ok', startedAt, latencyMs: this.now() - startedAt, waitedMs: startedAt - begunAt, chainIndex, usage: u, costUsd });
        return { result };
      } catch (error) {
        if (!(error instanceof ProviderError)) throw error;
        this.deps.observer?.onCall?.({ provider: route.name, model: route.model, keyId: key.id, outcome: error.kind, startedAt, latencyMs: this.now() - startedAt, waitedMs: startedAt - begunAt, chainIndex });
        // The request was sent: it counts against RPM; tokens are unknown, keep the estimate.
        reason = error.kind;
        if (!error.providerSide) {
          if (error.kind === 'auth') {
            await this.deps.cooldowns.setCooldownFor(key.id, AUTH_COOLDOWN_MS, 'auth');
            continue;
          }
          return { reason, fatal: error };
        }
        const failed = await this.deps.breaker.onFailure(breakerId, admitted);
        if (error.kind === 'rate_limited') {
          const until = cooldownEnd(error, this.now());
          const set = await this.deps.cooldowns.setCooldown(key.id, until, error.exhaustedQuota ? `quota_${error.exhaustedQuota}` : 'rate_limited');
          later(set.untilMs || until);
          if (!probe && failed.state === 'closed') continue; // another key of the same provider may have quota left
        }
        if (failed.state !== 'closed') later(failed.event?.openUntil || this.now() + this.deps.config.breaker.openMs);
        // Timeouts, 5xx and connection errors hit the provider, not the key: go to the next provider.
        return { reason };
      }
    }
    return { reason };
  }

  /** Keys ordered by remaining capacity (the fuller window last); one Redis round trip. */
  private async byCapacity(route: ProviderRoute, keys: ApiKeyConfig[]): Promise<ApiKeyConfig[]> {
    if (keys.length < 2 || (!route.rpm && !route.tpm)) return shuffle(keys);
    const capacity = await this.deps.limiter.remaining(
      keys.map((k) => scopeOf(route, k)),
      { rpm: route.rpm, tpm: route.tpm },
    );
    const share = (k: ApiKeyConfig) => {
      const c = capacity.get(scopeOf(route, k));
      if (!c) return 1;
      return Math.min(route.rpm ? c.requests / route.rpm : 1, route.tpm ? c.tokens / route.tpm : 1);
    };
    return shuffle(keys).sort((a, b) => share(b) - share(a));
  }

  private adapter(route: ProviderRoute, key: ApiKeyConfig): ChatProvider {
    let adapter = this.adapters.get(key.id);
    if (!adapter) {
      adapter = (this.deps.createAdapter ?? defaultAdapter)(route, key);
      this.adapters.set(key.id, adapter);
    }
    return adapter;
  }
}

/**
 * When a rate-limited key may be used again: a per-day quota at the next midnight Pacific time (when
 * Gemini's daily quotas reset), an exhausted account in an hour (re-checked then), otherwise after
 * the provider's Retry-After or 30 s.
 */
export function cooldownEnd(error: ProviderError, now: number): number {
  if (error.exhaustedQuota === 'day') return nextMidnightIn('America/Los_Angeles', now);
  if (error.exhaustedQuota === 'billing') return now + BILLING_COOLDOWN_MS;
  return now + (error.retryAfterMs ?? DEFAULT_RATE_LIMIT_COOLDOWN_MS);
}

/** The next midnight in `timeZone` after `now` (epoch ms), DST-aware. */
export function nextMidnightIn(timeZone: string, now: number): number {
  const parts = new Intl.DateTimeFormat('en-US', { timeZone, hourCycle: 'h23', hour: 'numeric', minute: 'numeric', second: 'numeric' }).formatToParts(new Date(now));
  const get = (type: string) => Number(parts.find((p) => p.type === type)?.value ?? 0);
  const sinceMidnightMs = ((get('hour') * 60 + get('minute')) * 60 + get('second')) * 1000 + (now % 1000);
  let candidate = now - sinceMidnightMs + 24 * 3_600_000;
  // Across a DST change the local day is 23 or 25 hours: step to where the local clock reads 00:00.
  const hourThere = () => Number(new Intl.DateTimeFormat('en-US', { timeZone, hourCycle: 'h23', hour: 'numeric' }).format(new Date(candidate)));
  const h = hourThere();
  if (h === 23) candidate += 3_600_000;
  else if (h === 1) candidate -= 3_600_000;
  return candidate;
}

function shuffle<T>(items: readonly T[]): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}
