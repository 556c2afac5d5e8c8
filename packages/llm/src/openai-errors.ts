import { APIConnectionError, APIConnectionTimeoutError, APIError, APIUserAbortError } from 'openai';
import { ProviderError } from './errors';
import { retryAfterFromHeaders } from './retry-after';
import { kindForStatus } from './status';
import { clip, isTransportError } from './transport';

/**
 * Maps anything the `openai` SDK call threw to a ProviderError, by class and status only:
 * - an HTTP answer (APIError with a status) → kind by status, retryAfterMs from its headers;
 * - our deadline fired, APIUserAbortError (only our deadline aborts), APIConnectionTimeoutError → timeout;
 * - APIConnectionError, or a socket error while reading the body → connection;
 * - anything else (e.g. a body that is not the expected JSON) → server.
 * Order matters: the abort and connection classes are APIError subclasses without a status.
 */
export function mapOpenAIError(err: unknown, provider: string, deadlineExpired: boolean, timeoutMs: number): ProviderError {
  if (err instanceof ProviderError) return err;
  if (err instanceof APIError && typeof err.status === 'number') {
    const retryAfterMs = retryAfterFromHeaders(err.headers);
    const kind = kindForStatus(err.status);
    // A 429 with code insufficient_quota is an exhausted account, not a burst: waiting seconds won't help.
    const billing = kind === 'rate_limited' && err.code === 'insufficient_quota';
    return new ProviderError(provider, kind, `${provider}: ${clip(err.message)}`, retryAfterMs, err.status, billing ? 'billing' : undefined);
  }
  if (deadlineExpired || err instanceof APIUserAbortError || err instanceof APIConnectionTimeoutError) {
    return new ProviderError(provider, 'timeout', `${provider}: no answer within ${timeoutMs} ms`);
  }
  if (err instanceof APIConnectionError || isTransportError(err)) {
    return new ProviderError(provider, 'connection', `${provider}: connection failed`);
  }
  const detail = err instanceof Error ? `${err.name}: ${clip(err.message)}` : 'unknown failure';
  return new ProviderError(provider, 'server', `${provider}: unusable response (${detail})`);
}
