import fs from 'node:fs';
import path from 'node:path';
import type { ChainableCommander, Redis } from 'ioredis';

/**
 * The Lua scripts of this package (src/lua/*.lua; each file's header lists KEYS, ARGV and replies).
 * A line `-- @include <name>` is replaced by src/lua/includes/<name>.lua, so helpers shared by
 * several scripts exist once. Scripts are registered with ioredis `defineCommand`, which sends
 * EVALSHA and falls back to EVAL when the server does not know the script yet (after a restart).
 */
const SCRIPTS = {
  rateAcquire: { file: 'rate_acquire', keys: 2 },
  rateReconcile: { file: 'rate_reconcile', keys: 2 },
  rateRelease: { file: 'rate_release', keys: 2 },
  rateUsage: { file: 'rate_usage', keys: 2 },
  cooldownSet: { file: 'cooldown_set', keys: 1 },
  cooldownGet: { file: 'cooldown_get', keys: 1 },
  breakerAcquire: { file: 'breaker_acquire', keys: 1 },
  breakerRecord: { file: 'breaker_record', keys: 2 },
  breakerForceOpen: { file: 'breaker_force_open', keys: 2 },
} as const;

export type ScriptName = keyof typeof SCRIPTS;

const LUA_DIR = path.join(__dirname, 'lua');

/** The source of a script with its includes inlined. */
export function scriptSource(name: ScriptName): string {
  const text = fs.readFileSync(path.join(LUA_DIR, `${SCRIPTS[name].file}.lua`), 'utf8');
  return text.replace(/^-- @include ([a-z_]+)[ \t]*$/gm, (_, include: string) => fs.readFileSync(path.join(LUA_DIR, 'includes', `${include}.lua`), 'utf8'));
}

const sources = new Map<ScriptName, string>();
const registered = new WeakSet<Redis>();

// Names are namespaced because they become methods of a client the caller may share with other code.
const commandName = (name: ScriptName): string => `innerTalkGatewayState_${name}`;

function register(redis: Redis): void {
  if (registered.has(redis)) return;
  for (const name of Object.keys(SCRIPTS) as ScriptName[]) {
    let lua = sources.get(name);
    if (lua === undefined) {
      lua = scriptSource(name);
      sources.set(name, lua);
    }
    redis.defineCommand(commandName(name), { numberOfKeys: SCRIPTS[name].keys, lua });
  }
  registered.add(redis);
}

type ScriptMethod = (...args: Array<string | number>) => Promise<unknown>;

/** Runs script `name` on `redis` (registering this package's scripts on the client the first time). */
export function runScript(redis: Redis, name: ScriptName, keys: readonly string[], args: ReadonlyArray<string | number>): Promise<unknown> {
  register(redis);
  const method = (redis as unknown as Record<string, ScriptMethod>)[commandName(name)];
  if (!method) throw new Error(`gateway-state: script ${name} is not registered`);
  return method.call(redis, ...keys, ...args);
}

/** A pipeline of `redis` on which {@link queueScript} can queue this package's scripts. */
export function scriptPipeline(redis: Redis): ChainableCommander {
  register(redis);
  return redis.pipeline();
}

/** Queues script `name` on a pipeline made by {@link scriptPipeline}. */
export function queueScript(pipeline: ChainableCommander, name: ScriptName, keys: readonly string[], args: ReadonlyArray<string | number>): void {
  const method = (pipeline as unknown as Record<string, (...a: Array<string | number>) => unknown>)[commandName(name)];
  if (!method) throw new Error(`gateway-state: script ${name} is not registered on the pipeline`);
  method.call(pipeline, ...keys, ...args);
}
