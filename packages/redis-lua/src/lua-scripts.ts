import fs from 'node:fs';
import path from 'node:path';
import type { ChainableCommander, Redis } from 'ioredis';

/** A script file (without `.lua`) and how many of its arguments are KEYS (`'variable'`: as many as given). */
export interface LuaScriptSpec {
  file: string;
  keys: number | 'variable';
}

/** Runs a package's Lua scripts on any ioredis client. Built by {@link defineLuaScripts}. */
export interface LuaScripts<Name extends string> {
  /** The source of a script with its includes inlined. */
  source(name: Name): string;
  /** Runs script `name` on `redis` (registering this set's scripts on the client the first time). */
  run(redis: Redis, name: Name, keys: readonly string[], args: ReadonlyArray<string | number>): Promise<unknown>;
  /** A pipeline of `redis` on which {@link LuaScripts.queue} can queue this set's scripts. */
  pipeline(redis: Redis): ChainableCommander;
  /** Queues script `name` on a pipeline made by {@link LuaScripts.pipeline}. */
  queue(pipeline: ChainableCommander, name: Name, keys: readonly string[], args: ReadonlyArray<string | number>): void;
}

/**
 * Loads the Lua scripts of one package from `dir` (each file's header lists KEYS, ARGV and
 * replies). A line `-- @include <name>` is replaced by `dir/includes/<name>.lua`, so helpers shared
 * by several scripts exist once. Scripts are registered with ioredis `defineCommand`, which sends
 * EVALSHA and falls back to EVAL when the server does not know the script yet (after a restart).
 *
 * Files are read lazily, once per process. Command names are prefixed with `namespace`, because
 * they become methods of a client the caller may share with other code.
 *
 * Why our own: ioredis `defineCommand` does the EVALSHA/EVAL part but has no includes and no
 * per-package registry; no maintained library adds those without a build step.
 */
export function defineLuaScripts<Name extends string>(dir: string, namespace: string, specs: Readonly<Record<Name, LuaScriptSpec>>): LuaScripts<Name> {
  const sources = new Map<Name, string>();
  const registered = new WeakSet<Redis>();
  const commandName = (name: Name) => `${namespace}_${name}`;

  const source = (name: Name): string => {
    let lua = sources.get(name);
    if (lua === undefined) {
      const text = fs.readFileSync(path.join(dir, `${specs[name].file}.lua`), 'utf8');
      lua = text.replace(/^-- @include ([a-z_]+)[ \t]*$/gm, (_, include: string) => fs.readFileSync(path.join(dir, 'includes', `${include}.lua`), 'utf8'));
      sources.set(name, lua);
    }
    return lua;
  };

  const register = (redis: Redis) => {
    if (registered.has(redis)) return;
    for (const name of Object.keys(specs) as Name[]) {
      const keys = specs[name].keys;
      // Without numberOfKeys, ioredis expects the key count as the first argument (see argsOf).
      redis.defineCommand(commandName(name), keys === 'variable' ? { lua: source(name) } : { numberOfKeys: keys, lua: source(name) });
    }
    registered.add(redis);
  };

  type Method = (...args: Array<string | number>) => unknown;
  const method = (target: object, name: Name): Method => {
    const found = (target as Record<string, Method | undefined>)[commandName(name)];
    if (!found) throw new Error(`${namespace}: Lua script ${name} is not registered`);
    return found;
  };

  /** The command's arguments; a wrong key count is a bug that would shift KEYS into ARGV silently. */
  const argsOf = (name: Name, keys: readonly string[], args: ReadonlyArray<string | number>): Array<string | number> => {
    const expected = specs[name].keys;
    if (expected === 'variable') return [keys.length, ...keys, ...args];
    if (keys.length !== expected) throw new RangeError(`${namespace}: Lua script ${name} takes ${expected} keys, got ${keys.length}`);
    return [...keys, ...args];
  };

  return {
    source,
    run(redis, name, keys, args) {
      register(redis);
      return method(redis, name).call(redis, ...argsOf(name, keys, args)) as Promise<unknown>;
    },
    pipeline(redis) {
      register(redis);
      return redis.pipeline();
    },
    queue(pipeline, name, keys, args) {
      method(pipeline, name).call(pipeline, ...argsOf(name, keys, args));
    },
  };
}
