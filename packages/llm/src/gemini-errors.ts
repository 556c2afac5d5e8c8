import { ApiError } from '@google/genai';
import { ProviderError } from './errors';
import { parseProtoDuration, retryAfterFromHeaders, type HeaderSource } from './retry-after';
import { kindForStatus } from './status';
import { clip, isTransportError } from './transport';

/** What our fetch wrapper saw of the one HTTP attempt (ApiError carries neither headers nor a cause). */
export interface GeminiTransport {
  headers?: HeaderSource;
  /** fetch itself rejected: no HTTP response at all. */
  fetchFailed: boolean;
}

interface GoogleErrorBody {
  code?: unknown;
  message?: unknown;
  status?: unknown;
  details?: unknown;
}

const RETRY_INFO = 'type.googleapis.com/google.rpc.RetryInfo';
const ERROR_INFO = 'type.googleapis.com/google.rpc.ErrorInfo';
const QUOTA_FAILURE = 'type.googleapis.com/google.rpc.QuotaFailure';

function isApiError(err: unknown): err is ApiError {
  // The name check covers a second copy of the SDK (its ESM and CJS builds loaded side by side);
  // the SDK itself recognises its errors the same way.
  return err instanceof ApiError || (err instanceof Error && err.name === 'ApiError' && typeof (err as ApiError).status === 'number');
}

/**
 * ApiError's message is JSON.stringify of the response body (the SDK wraps a non-JSON body as
 * {error:{message,code,status}}), so parsing it recovers the structured Google error.
 */
function googleErrorBody(err: ApiError): GoogleErrorBody | undefined {
  try {
    const parsed = JSON.parse(err.message) as { error?: unknown };
    return typeof parsed.error === 'object' && parsed.error !== null ? (parsed.error as GoogleErrorBody) : undefined;
  } catch {
    return undefined;
  }
}

function detailsOfType(body: GoogleErrorBody | undefined, type: string): Record<string, unknown>[] {
  if (!Array.isArray(body?.details)) return [];
  return body.details.filter(
    (d): d is Record<string, unknown> => typeof d === 'object' && d !== null && (d as Record<string, unknown>)['@type'] === type,
  );
}

/** RetryInfo.retryDelay from the error details, in ms. */
export function retryDelayFromGoogleError(body: GoogleErrorBody | undefined): number | undefined {
  for (const info of detailsOfType(body, RETRY_INFO)) {
    const ms = parseProtoDuration(info['retryDelay']);
    if (ms !== undefined) return ms;
  }
  return undefined;
}

function mapApiError(err: ApiError, provider: string, transport: GeminiTransport): ProviderError {
  const body = googleErrorBody(err);
  const retryAfterMs = retryAfterFromHeaders(transport.headers) ?? retryDelayFromGoogleError(body);
  // Google answers a wrong API key with 400 INVALID_ARGUMENT; the ErrorInfo reason says it is auth.
  const badKey = detailsOfType(body, ERROR_INFO).some((d) => d['reason'] === 'API_KEY_INVALID');
  const kind = badKey ? 'auth' : kindForStatus(err.status);
  const grpc = typeof body?.status === 'string' ? ` ${body.status}` : '';
  const message = typeof body?.message === 'string' ? `: ${clip(body.message)}` : '';
  const perDay = kind === 'rate_limited' && dailyQuotaViolated(body);
  return new ProviderError(provider, kind, `${provider}: HTTP ${err.status}${grpc}${message}`, retryAfterMs, err.status, perDay ? 'day' : undefined);
}

/** A QuotaFailure violation whose quotaId names a per-day quota (e.g. GenerateRequestsPerDayPerProjectPerModel). */
function dailyQuotaViolated(body: GoogleErrorBody | undefined): boolean {
  return detailsOfType(body, QUOTA_FAILURE).some(
    (d) => Array.isArray(d['violations']) && d['violations'].some((v: unknown) => typeof v === 'object' && v !== null && String((v as Record<string, unknown>)['quotaId'] ?? '').includes('PerDay')),
  );
}

/**
 * Maps anything the `@google/genai` call threw to a ProviderError, by class and status only:
 * - ApiError (an HTTP answer) → kind by status (400 with ErrorInfo API_KEY_INVALID → auth), retryAfterMs
 *   from retry-after-ms / retry-after headers, else RetryInfo.retryDelay in the body;
 * - our deadline fired → timeout (the SDK throws the bare DOMException AbortError then);
 * - fetch rejected, or a socket error while reading the body → connection;
 * - anything else (e.g. a malformed body) → server.
 */
export function mapGeminiError(
  err: unknown,
  provider: string,
  deadlineExpired: boolean,
  timeoutMs: number,
  transport: GeminiTransport,
): ProviderError {
  if (err instanceof ProviderError) return err;
  if (isApiError(err)) return mapApiError(err, provider, transport);
  if (deadlineExpired) return new ProviderError(provider, 'timeout', `${provider}: no answer within ${timeoutMs} ms`);
  if (transport.fetchFailed || isTransportError(err)) {
    return new ProviderError(provider, 'connection', `${provider}: connection failed`);
  }
  const detail = err instanceof Error ? `${err.name}: ${clip(err.message)}` : 'unknown failure';
  return new ProviderError(provider, 'server', `${provider}: unusable response (${detail})`);
}
