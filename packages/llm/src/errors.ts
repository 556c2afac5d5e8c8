/**
 * Why a provider call failed. The kind alone decides what happens next:
 * - provider-side (`timeout`, `rate_limited`, `server`, `connection`) may be retried elsewhere or later
 *   and count against the provider's health;
 * - our side (`bad_request`, `auth`) is never retried and does not count as the provider failing;
 * - `refused`: the provider answered but declined the content (a safety block, a content filter, a
 *   refusal message). It is a judgement on what was asked, so it is neither retried nor counted
 *   against the provider's health; the caller answers without the model.
 */
export type ProviderErrorKind = 'timeout' | 'rate_limited' | 'server' | 'connection' | 'bad_request' | 'auth' | 'refused';

const PROVIDER_SIDE: ReadonlySet<ProviderErrorKind> = new Set(['timeout', 'rate_limited', 'server', 'connection']);

export class ProviderError extends Error {
  override readonly name = 'ProviderError';
  constructor(
    readonly provider: string,
    readonly kind: ProviderErrorKind,
    message: string,
    /** How long the provider asked us to wait (Retry-After, retry-after-ms, Gemini RetryInfo), if it said. */
    readonly retryAfterMs?: number,
    /** HTTP status when there was a response. */
    readonly status?: number,
    /**
     * A 429 that is not a short burst: `day` — a per-day quota is used up (Gemini's QuotaFailure
     * quotaId …PerDay…), it resets at the provider's day boundary; `billing` — the account has no
     * quota left (OpenAI `insufficient_quota`), it needs a person.
     */
    readonly exhaustedQuota?: 'day' | 'billing',
  ) {
    super(message);
  }

  /** True when the failure is the provider's (retry elsewhere/later; counts against its health). */
  get providerSide(): boolean {
    return PROVIDER_SIDE.has(this.kind);
  }
}
