import type { IncomingHttpHeaders } from 'node:http';
import type { MockUsage } from './reply';
import type { MockLlmConfig, MockProvider, MockQuotaScope, MockReceivedMessage } from './types';

/** An API request reduced to what the mock needs, whatever the provider's wire format. */
export interface ParsedCall {
  model: string | null;
  system: string | null;
  messages: MockReceivedMessage[];
  maxOutputTokens: number | null;
  temperature: number | null;
  /** Gemini's generationConfig.thinkingConfig.thinkingBudget (0 turns thinking off); null when not sent. */
  thinkingBudget: number | null;
  /** Why the provider would reject the request with 400, or null when it is acceptable. */
  invalid: string | null;
}

/** A matched API route; Gemini carries the model in the path. */
export interface ApiRoute {
  model: string | null;
}

export interface ErrorReply {
  status: number;
  body: unknown;
}

/** What a quota 429 says: which model hit it and how long the client is asked to wait. */
export interface QuotaInfo {
  model: string | null;
  retryAfterMs: number;
}

/** Everything provider-specific about a mock server: routes, auth, wire format and error shape. */
export interface ProviderDialect {
  readonly provider: MockProvider;
  /** What to append to the server origin to get the base URL the official SDK expects. */
  readonly sdkBasePath: string;
  matchRoute(method: string, url: URL): ApiRoute | null;
  apiKey(headers: IncomingHttpHeaders, url: URL): string | null;
  parse(body: unknown, route: ApiRoute): ParsedCall;
  errorBody(status: number, message: string): unknown;
  /** The provider's usual message for an error status, when the mock knows it. */
  statusMessage(status: number): string | undefined;
  /**
   * The body of a 429 for an exhausted quota: 'minute' is the retryable per-minute rate limit, 'day' the
   * one that retrying soon does not fix (Gemini's per-day quota, OpenAI's insufficient_quota).
   */
  quotaBody(scope: MockQuotaScope, info: QuotaInfo): unknown;
  missingKey(): ErrorReply;
  invalidKey(): ErrorReply;
  /** A successful answer; `config` is the config the request is decided with (e.g. Gemini's thinking). */
  successBody(call: ParsedCall, reply: string, usage: MockUsage, seq: number, config: MockLlmConfig): unknown;
}

/** True for a plain JSON object (not null, not an array). */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The value when it is a finite number, else null. */
export function numberOrNull(value: unknown): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}

/** The first value of a possibly repeated header; null when absent or empty. */
export function firstHeader(value: string | string[] | undefined): string | null {
  const v = Array.isArray(value) ? value[0] : value;
  return v === undefined || v === '' ? null : v;
}

/** A call the provider would reject with 400 for the given reason. */
export function emptyCall(invalid: string, model: string | null = null): ParsedCall {
  return { model, system: null, messages: [], maxOutputTokens: null, temperature: null, thinkingBudget: null, invalid };
}

/** A google.protobuf.Duration in JSON form: "3s", or "2.500s" when not whole seconds. */
export function protoDuration(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${(ms / 1000).toFixed(3)}s`;
}
