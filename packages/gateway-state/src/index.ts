/**
 * Shared state of the LLM gateway, held in Redis for every worker process: RPM/TPM limiters per
 * quota scope, API-key cooldowns and circuit breakers, each decision made by one atomic Lua script
 * on Redis TIME (keys of one scope/breaker share a `{hash tag}`, so the scripts also run on Redis
 * Cluster).
 *
 * Redis away or slow: nothing here throws a Redis error or waits longer than the call timeout
 * (default 75 ms; see RedisCallPolicy). Each primitive answers from per-process state instead and
 * says so with `degraded: true`. Give every primitive of a process the same RedisHealth: after one
 * timeout or connection error all of them answer locally at once, until a background PING sees Redis
 * answer again; then its state wins.
 *
 * Redis layout (`<prefix>` chosen by the caller, e.g. `it`):
 *   <prefix>:rl:{<scope>}:log   ZSET  request id -> grant time (µs)        rate limiter sliding log
 *   <prefix>:rl:{<scope>}:tok   HASH  request id -> tokens, '#sum'        rate limiter token counts
 *   <prefix>:cooldowns          HASH  keyId -> "<untilMs>|<reason>"       API-key cooldowns
 *   <prefix>:br:{<id>}          HASH  st, until, cf, lease, reopen, seq   breaker state
 *   <prefix>:br:{<id>}:win      HASH  s<bucket>/f<bucket> counters        breaker error-rate window
 *   <prefix>:breaker:events     pub/sub channel of breaker transitions (JSON)
 */
export { RateLimiter, rateLimitKeys } from './rate-limiter';
export type { RateLimiterOptions, RateLimits, AcquireRequest, AcquireResult, Reservation, ScopeCapacity } from './rate-limiter';
export { Cooldowns, cooldownsKey } from './cooldowns';
export type { CooldownsOptions, ActiveCooldown, SetCooldownResult } from './cooldowns';
export { CircuitBreaker, breakerKeys } from './breaker';
export type { CircuitBreakerOptions, BreakerAcquireOptions, BreakerAcquireResult, BreakerOutcomeOptions, BreakerOutcomeResult } from './breaker';
export { BreakerWatcher, breakerEventsChannel, parseBreakerEvent } from './breaker-watcher';
export type { BreakerWatcherOptions, BreakerEventListener } from './breaker-watcher';
export { resolveBreakerConfig } from './breaker-types';
export type { BreakerConfig, ResolvedBreakerConfig, BreakerState, BreakerDecision, BreakerTransition, BreakerTransitionReason, BreakerView } from './breaker-types';
export { createGatewayRedis, waitForRedis } from './redis';
export type { RedisCallPolicy } from './redis';
export { RedisHealth, DEFAULT_TIMEOUT_MS, DEFAULT_PROBE_INTERVAL_MS } from './redis-health';
export type { RedisHealthOptions, Guarded } from './redis-health';
export { EstimateExceedsLimitError, GatewayStateConfigError, RedisUnavailableError } from './errors';
export type { RedisUnavailableKind } from './errors';
export { scriptSource } from './scripts';
export type { ScriptName } from './scripts';
