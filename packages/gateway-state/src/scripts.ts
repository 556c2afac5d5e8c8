import path from 'node:path';
import type { ChainableCommander, Redis } from 'ioredis';
import { defineLuaScripts } from '@inner-talk/redis-lua';

/** The Lua scripts of this package (src/lua/*.lua; each file's header lists KEYS, ARGV and replies). */
const SCRIPTS = defineLuaScripts(path.join(__dirname, 'lua'), 'innerTalkGatewayState', {
  rateAcquire: { file: 'rate_acquire', keys: 2 },
  rateReconcile: { file: 'rate_reconcile', keys: 2 },
  rateRelease: { file: 'rate_release', keys: 2 },
  rateUsage: { file: 'rate_usage', keys: 2 },
  cooldownSet: { file: 'cooldown_set', keys: 1 },
  cooldownGet: { file: 'cooldown_get', keys: 1 },
  breakerAcquire: { file: 'breaker_acquire', keys: 1 },
  breakerRecord: { file: 'breaker_record', keys: 2 },
  breakerForceOpen: { file: 'breaker_force_open', keys: 2 },
});

export type ScriptName = Parameters<typeof SCRIPTS.run>[1];

/** The source of a script with its includes inlined. */
export function scriptSource(name: ScriptName): string {
  return SCRIPTS.source(name);
}

/** Runs script `name` on `redis` (registering this package's scripts on the client the first time). */
export function runScript(redis: Redis, name: ScriptName, keys: readonly string[], args: ReadonlyArray<string | number>): Promise<unknown> {
  return SCRIPTS.run(redis, name, keys, args);
}

/** A pipeline of `redis` on which {@link queueScript} can queue this package's scripts. */
export function scriptPipeline(redis: Redis): ChainableCommander {
  return SCRIPTS.pipeline(redis);
}

/** Queues script `name` on a pipeline made by {@link scriptPipeline}. */
export function queueScript(pipeline: ChainableCommander, name: ScriptName, keys: readonly string[], args: ReadonlyArray<string | number>): void {
  SCRIPTS.queue(pipeline, name, keys, args);
}
