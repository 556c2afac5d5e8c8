import type { Redis } from 'ioredis';
import {
  BreakerWatcher,
  CircuitBreaker,
  Cooldowns,
  createGatewayRedis,
  RateLimiter,
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
  close(): Promise<void>;
}

/**
 * Opens the gateway's own fail-fast Redis connection (separate from BullMQ's, which must wait out
 * outages while the gateway must not), starts this process's breaker watcher and builds the
 * shared-state primitives with the configured breaker rules. Resolves even if Redis is not
 * reachable yet: the primitives then answer from per-process state (`degraded`) until it is.
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
  const policy = options.onRedisError ? { onRedisError: options.onRedisError } : {};
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
    async close() {
      await watcher.close();
      redis.disconnect();
    },
  };
}
