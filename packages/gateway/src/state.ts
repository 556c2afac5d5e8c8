import type { Redis } from 'ioredis';
import {
  BreakerWatcher,
  CircuitBreaker,
  Cooldowns,
  createGatewayRedis,
  RateLimiter,
  RedisHealth,
  waitForRedis,
  type BreakerTransition,
  type RedisUnavailableError,
} from '@inner-talk/gateway-state';
import type { GatewayConfig } from './config';

export interface GatewayState {
  breaker: CircuitBreaker;
  cooldowns: Cooldowns;
  limiter: RateLimiter;
  watcher: BreakerWatcher;
  redis: Redis;
  /** Shared by the breaker, cooldowns and limiter: one Redis timeout per outage, not one per primitive and call. */
  health: RedisHealth;
  close(): Promise<void>;
}

/**
 * Opens the gateway's own fail-fast Redis connection (separate from BullMQ's, which must wait out
 * outages while the gateway must not), starts this process's breaker watcher and builds the
 * shared-state primitives with the configured breaker rules, all on one RedisHealth: once a Redis call
 * times out or its connection fails, every primitive answers from per-process state at once (no
 * further waiting on Redis) until a background PING sees Redis answer again. Resolves even if Redis
 * is not reachable yet: the primitives then answer from per-process state (`degraded`) until it is.
 */
export async function createGatewayState(options: {
  redisUrl: string;
  prefix: string;
  config: GatewayConfig;
  onTransition?: (event: BreakerTransition) => void;
  onRedisError?: (error: RedisUnavailableError) => void;
}): Promise<GatewayState> {
  const redis = createGatewayRedis(options.redisUrl);
  await waitForRedis(redis, 5_000);
  const watcher = new BreakerWatcher({ redis, prefix: options.prefix });
  await watcher.start();
  const health = new RedisHealth(redis);
  const policy = { health, ...(options.onRedisError && { onRedisError: options.onRedisError }) };
  const breaker = new CircuitBreaker({
    redis,
    prefix: options.prefix,
    watcher,
    config: options.config.breaker,
    ...(options.onTransition && { onTransition: options.onTransition }),
    ...policy,
  });
  return {
    breaker,
    cooldowns: new Cooldowns({ redis, prefix: options.prefix, ...policy }),
    limiter: new RateLimiter({ redis, prefix: options.prefix, ...policy }),
    watcher,
    redis,
    health,
    async close() {
      health.close();
      await watcher.close();
      redis.disconnect();
    },
  };
}
