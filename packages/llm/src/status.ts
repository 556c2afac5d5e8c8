import type { ProviderErrorKind } from './errors';

/**
 * The error kind an HTTP status means, the same for every provider:
 * 429 rate_limited; 401/403 auth; 408 timeout (the provider gave up waiting); other 4xx bad_request
 * (400, 404, 409, 413, 422: our request is wrong, retrying it elsewhere will not help); 5xx and
 * anything unexpected server.
 */
export function kindForStatus(status: number): ProviderErrorKind {
  if (status === 429) return 'rate_limited';
  if (status === 401 || status === 403) return 'auth';
  if (status === 408) return 'timeout';
  if (status >= 400 && status < 500) return 'bad_request';
  return 'server';
}
