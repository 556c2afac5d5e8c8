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

/** Runtime behaviour of a mock server; every field can be changed while it runs. */
export interface MockLlmConfig {
  latency: LatencySpec;
  /** Reported as cached input tokens (capped at the input estimate). */
  cachedTokens: number;
  /** Reported as reasoning/thought tokens. */
  reasoningTokens: number;
  /** Seed of the latency RNG; setting it (or the latency) restarts the sequence. */
  seed: number;
  /** When non-null, other API keys get the provider's invalid-key error (null: any key is accepted). */
  validApiKeys: readonly string[] | null;
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
  /** True when a scripted fault decided the outcome. */
  scripted: boolean;
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
  byOutcome: Record<string, number>;
  /** Scripted faults not yet consumed. */
  pendingFaults: number;
}
