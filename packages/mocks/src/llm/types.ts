/** Which real API a mock server imitates. */
export type MockProvider = 'openai' | 'gemini';

/**
 * How long a successful reply takes. Log-normal matches the long right tail of real LLM latency;
 * give either `sigma` (of ln ms) or `p99Ms` (sigma is derived so that 99% of samples fall below it).
 */
export type LatencySpec =
  | { kind: 'none' }
  | { kind: 'fixed'; ms: number }
  | { kind: 'lognormal'; medianMs: number; sigma?: number; p99Ms?: number; maxMs?: number };

/** What an outage (`down: true`) does to each generate request. */
export type MockDownMode = 'error' | 'hang' | 'refuse';

/** Which Gemini quota a standing `quotaExhausted` fault reports as used up. */
export type MockQuotaScope = 'minute' | 'day';

/** Which retry headers a rate-limited (retryable 429) answer carries. */
export type MockRetryAfterHeaders = 'both' | 'seconds' | 'ms' | 'none';

/**
 * How a request ended, as counted in MockStats.byKind: 'ok' is any status below 400, 'rate_limited' a 429,
 * 'error' any other 4xx/5xx (including bad keys and bodies), 'timeout' a request left hanging,
 * 'refused' a connection destroyed without an answer.
 */
export type MockOutcomeKind = 'ok' | 'error' | 'rate_limited' | 'timeout' | 'refused';

/** What decided a request's outcome when it was not a normal answer: a scripted fault or a standing one. */
export type MockFaultSource = 'script' | 'down' | 'quota' | 'errorRate' | 'rateLimitRate' | 'timeoutRate';

/**
 * Runtime behaviour of a mock server; every field can be changed while it runs, and a change applies from
 * the next request on (requests already waiting out their latency are not affected).
 *
 * Standing faults apply to every request on a generate route until changed, before its key and body are
 * checked, in this order: a scripted fault (see MockFault) always wins; then `down`; then `quotaExhausted`;
 * then one draw from the seeded fault RNG splits requests into timeout / rate limit / error / normal by
 * `timeoutRate`, `rateLimitRate` and `errorRate` (their sum must not exceed 1). Fault answers are sent
 * without the configured latency.
 */
export interface MockLlmConfig {
  latency: LatencySpec;
  /** Reported as cached input tokens (capped at the input estimate). */
  cachedTokens: number;
  /** Reported as reasoning/thought tokens (on top of Gemini's `thinkingTokens`). */
  reasoningTokens: number;
  /**
   * Gemini only: thinking tokens a request spends from its `maxOutputTokens` before any text, unless
   * it sets `thinkingConfig.thinkingBudget: 0` (a positive budget caps them), reported in
   * `thoughtsTokenCount`. Gemini 2.5 Flash thinks by default, so the default is 64: a request asking
   * for a few tokens without turning thinking off gets no text and `finishReason: MAX_TOKENS`.
   */
  thinkingTokens: number;
  /**
   * Seed of the latency RNG and of the separate fault RNG. Setting it restarts both sequences; setting the
   * latency restarts the latency one, setting any of the three rates restarts the fault one.
   */
  seed: number;
  /** When non-null, other API keys get the provider's invalid-key error (null: any key is accepted). */
  validApiKeys: readonly string[] | null;
  /** Fraction (0-1) of requests answered with `errorStatus` in the provider's error shape. Default 0. */
  errorRate: number;
  /** Status of `errorRate` failures and of `down` in 'error' mode (400-599). Default 503. */
  errorStatus: number;
  /**
   * Fraction (0-1) of requests answered 429 as a per-minute rate limit: retry headers per
   * `retryAfterHeaders`; OpenAI `rate_limit_exceeded`, Gemini RESOURCE_EXHAUSTED with a PerMinute
   * QuotaFailure and a RetryInfo detail. Default 0.
   */
  rateLimitRate: number;
  /** The wait rate limits ask for (headers and Gemini's RetryInfo.retryDelay), in ms. Default 1000. */
  retryAfterMs: number;
  /** `retry-after` (whole seconds, rounded up) and/or `retry-after-ms` on retryable 429s. Default 'both'. */
  retryAfterHeaders: MockRetryAfterHeaders;
  /** Fraction (0-1) of requests left hanging until the client gives up or the server closes. Default 0. */
  timeoutRate: number;
  /** Outage: every generate request fails as `downMode` says. Default false. */
  down: boolean;
  /** 'error': `errorStatus` in the provider's shape; 'hang': never answer; 'refuse': drop the connection. */
  downMode: MockDownMode;
  /**
   * Every request gets a quota 429: 'minute' is the per-minute rate limit above; 'day' is Gemini's per-day
   * QuotaFailure (no retry headers) or OpenAI's `insufficient_quota`. Default false.
   */
  quotaExhausted: MockQuotaScope | false;
}

/**
 * One scripted response that replaces the next normal answer (first in, first out).
 * - `status` (with optional `body`, `headers`): answer with that status; without `body`, the provider's
 *   own error JSON for that status (or a normal reply for 2xx);
 * - no `status` and no `body`: a normal reply, after `delayMs` instead of the configured latency;
 * - `hang: true`: accept the request and never answer (until the client gives up or the server closes);
 * - `reset: true`: destroy the connection without answering.
 * `delayMs` (default 0) is waited before any of the above.
 */
export interface MockFault {
  status?: number;
  body?: unknown;
  headers?: Record<string, string>;
  delayMs?: number;
  hang?: boolean;
  reset?: boolean;
}

/** A turn of the request as the server received it (roles exactly as sent, e.g. 'model' for Gemini). */
export interface MockReceivedMessage {
  role: string;
  text: string;
}

/** What the server saw of one API request and how it answered. */
export interface MockRequestRecord {
  /** 1-based order of arrival since start or the last reset. */
  seq: number;
  at: number;
  method: string;
  path: string;
  model: string | null;
  /** Fingerprint of the API key (see apiKeyFingerprint), never the key itself. */
  apiKey: string | null;
  /** System prompt text (OpenAI system/developer messages, Gemini systemInstruction), null when absent. */
  system: string | null;
  /** Non-system turns in order, roles as sent. */
  messages: MockReceivedMessage[];
  maxOutputTokens: number | null;
  temperature: number | null;
  /** HTTP status sent, or 'hang' / 'reset' for those faults. */
  outcome: number | 'hang' | 'reset';
  kind: MockOutcomeKind;
  /** True when a scripted fault decided the outcome. */
  scripted: boolean;
  /** The fault that decided the outcome, or null for a normal answer (including key and body errors). */
  fault: MockFaultSource | null;
  /** The parsed JSON body (null when it was not JSON). */
  body: unknown;
}

/** Counters since start or the last reset. Keys are API-key fingerprints, never keys. */
export interface MockStats {
  provider: MockProvider;
  /** API requests received (control routes under /__mock/ are not counted). */
  requests: number;
  /** Requests accepted but not answered yet (includes hanging ones). */
  inFlight: number;
  byModel: Record<string, number>;
  byApiKey: Record<string, number>;
  /** By HTTP status, or 'hang' / 'reset'. */
  byOutcome: Record<string, number>;
  /** By kind of outcome; every kind is present, 0 when it did not happen. */
  byKind: Record<MockOutcomeKind, number>;
  /** Scripted faults not yet consumed. */
  pendingFaults: number;
}
