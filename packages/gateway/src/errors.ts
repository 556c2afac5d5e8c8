import type { ProviderErrorKind } from '@inner-talk/llm';

/** Why one provider was not used or failed during a gateway call. */
export interface ProviderSkip {
  provider: string;
  reason: 'breaker_open' | 'keys_cooling_down' | 'rate_limited_here' | ProviderErrorKind | 'deadline';
}

/**
 * Every provider of the chain is failing, open, cooling down or out of capacity for now.
 * `retryAt` (epoch ms) is the earliest moment one of them can be tried again (a breaker's open
 * period, a key's cooldown or a limiter window ending) — the caller delays the work until then
 * instead of failing it.
 */
export class AllProvidersUnavailableError extends Error {
  override readonly name = 'AllProvidersUnavailableError';
  constructor(
    readonly retryAt: number,
    readonly skips: readonly ProviderSkip[],
  ) {
    super(`No LLM provider available until ${new Date(retryAt).toISOString()}: ${skips.map((s) => `${s.provider}=${s.reason}`).join(', ')}`);
  }
}
