/**
 * Typed errors of the gateway state. Callers decide by class (`instanceof`), never by message text.
 *
 * Only programming mistakes are thrown (bad limits, an estimate that can never fit). Redis being
 * slow, away or answering with an error is never thrown from the limiter, the cooldowns or the
 * breaker: they answer from per-process state with `degraded: true` and hand a
 * {@link RedisUnavailableError} to the `onRedisError` callback, if one was given.
 */

/** An estimate above the scope's TPM limit could never be admitted; refusing it beats waiting forever. */
export class EstimateExceedsLimitError extends Error {
  override readonly name = 'EstimateExceedsLimitError';
  constructor(
    readonly scope: string,
    readonly estimatedTokens: number,
    readonly tpm: number,
  ) {
    super(`Estimated ${estimatedTokens} tokens exceed the TPM limit ${tpm} of scope ${scope}: the request can never be admitted`);
  }
}

/** Options or limits that cannot work (non-positive limits, a window of 0 ms, a threshold above 1…). */
export class GatewayStateConfigError extends Error {
  override readonly name = 'GatewayStateConfigError';
  constructor(
    readonly option: string,
    readonly problem: string,
  ) {
    super(`Invalid gateway-state option ${option}: ${problem}`);
  }
}

/**
 * Why a call fell back to per-process state:
 * - `not_connected`: the client was not connected (we do not queue commands for later: a command
 *   replayed after an outage would count a stale failure or grant);
 * - `timeout`: no answer within the call timeout (hung server, partition, overload);
 * - `connection`: the connection failed while the command was in flight;
 * - `reply`: Redis answered with an error (e.g. OOM under `noeviction`, or a script bug).
 */
export type RedisUnavailableKind = 'not_connected' | 'timeout' | 'connection' | 'reply';

/** Passed to `onRedisError` when an operation was answered from local state instead of Redis. Never thrown. */
export class RedisUnavailableError extends Error {
  override readonly name = 'RedisUnavailableError';
  constructor(
    readonly kind: RedisUnavailableKind,
    /** Which operation fell back, e.g. `limiter.tryAcquire`. */
    readonly operation: string,
    options?: { cause?: unknown },
  ) {
    super(`Redis unavailable (${kind}) during ${operation}; answered from local state`, options);
  }
}
