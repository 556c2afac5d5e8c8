import type { IncomingHttpHeaders } from 'node:http';
import type { MockUsage } from './reply';
import type { MockProvider, MockReceivedMessage } from './types';

/** An API request reduced to what the mock needs, whatever the provider's wire format. */
export interface ParsedCall {
  model: string | null;
  system: string | null;
  messages: MockReceivedMessage[];
  maxOutputTokens: number | null;
  temperature: number | null;
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

/** Everything provider-specific about a mock server: routes, auth, wire format and error shape. */
export interface ProviderDialect {
  readonly provider: MockProvider;
  /** What to append to the server origin to get the base URL the official SDK expects. */
  readonly sdkBasePath: string;
  matchRoute(method: string, url: URL): ApiRoute | null;
  apiKey(headers: IncomingHttpHeaders, url: URL): string | null;
  parse(body: unknown, route: ApiRoute): ParsedCall;
  errorBody(status: number, message: string): unknown;
  missingKey(): ErrorReply;
  invalidKey(): ErrorReply;
  successBody(call: ParsedCall, reply: string, usage: MockUsage, seq: number): unknown;
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
  return { model, system: null, messages: [], maxOutputTokens: null, temperature: null, invalid };
}
