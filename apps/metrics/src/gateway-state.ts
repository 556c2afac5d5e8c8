import type { Redis } from 'ioredis';
import { breakerKeys, cooldownsKey } from '@inner-talk/gateway-state';

/**
 * Read-only views of the LLM gateway's shared state in Redis (layout: packages/gateway-state's
 * header), for gauges computed at scrape time. The metrics app does not know the workers' provider
 * chain, so it discovers breakers from their keys. Nothing here writes.
 */

/** Gauge values of a breaker: 0 closed, 1 half-open (or open with its open period over: the next call probes), 2 open. */
export const BREAKER_STATE_VALUE = { closed: 0, half_open: 1, open: 2 } as const;

export interface BreakerReading {
  /** Breaker id as the gateway names it, e.g. `provider:gemini`. */
  id: string;
  state: keyof typeof BREAKER_STATE_VALUE;
  value: number;
}

async function redisNowMs(redis: Redis): Promise<number> {
  const [seconds, micros] = await redis.time();
  return Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
}

/**
 * Every breaker with a state hash, found by SCAN of `<prefix>:br:{*}` (skipping the `:win` window
 * hashes) and read in one pipeline. A breaker without a hash is closed with no failures (its hash
 * expires after a quiet period), so missing ones are simply not reported. Judged on Redis TIME,
 * the clock the breaker scripts use. SCAN walks the whole keyspace in steps of 1000 keys: cheap at
 * a scrape every 15 s for the key counts this deployment has (jobs are removed after completion).
 */
export async function readBreakers(redis: Redis, prefix: string): Promise<BreakerReading[]> {
  const [pattern] = breakerKeys(prefix, '*');
  const head = pattern.slice(0, pattern.indexOf('{') + 1);
  const keys = new Set<string>();
  let cursor = '0';
  do {
    const [next, batch] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
    cursor = next;
    for (const key of batch) if (key.startsWith(head) && key.endsWith('}')) keys.add(key);
  } while (cursor !== '0');
  if (keys.size === 0) return [];
  const ordered = [...keys].sort();
  const pipeline = redis.pipeline();
  for (const key of ordered) pipeline.hmget(key, 'st', 'until');
  const [results, now] = await Promise.all([pipeline.exec(), redisNowMs(redis)]);
  const readings: BreakerReading[] = [];
  ordered.forEach((key, i) => {
    const [error, fields] = results?.[i] ?? [new Error('no reply')];
    if (error) throw error;
    const [st, until] = fields as Array<string | null>;
    if (st === null) return; // expired between SCAN and HMGET
    const state = st === 'open' || st === 'half_open' ? st : 'closed';
    // An open breaker whose open period is over stays "open" in Redis until the next call takes
    // the probe; it no longer blocks anything, so it reads as half-open (no false "open" alerts
    // on a quiet night).
    const value = state === 'open' && Number(until ?? 0) <= now ? BREAKER_STATE_VALUE.half_open : BREAKER_STATE_VALUE[state];
    readings.push({ id: key.slice(head.length, -1), state, value });
  });
  return readings;
}

export interface CooldownCount {
  provider: string;
  reason: string;
  keys: number;
}

/**
 * API keys cooling down now, counted by provider and reason, from the cooldowns hash
 * (keyId → "<untilMs>|<reason>", keyIds `<provider>#<n>`). Ended entries the gateway has not pruned
 * yet are not counted. Judged on Redis TIME, like the cooldown scripts.
 */
export async function readCooldowns(redis: Redis, prefix: string): Promise<CooldownCount[]> {
  const [hash, now] = await Promise.all([redis.hgetall(cooldownsKey(prefix)), redisNowMs(redis)]);
  const counts = new Map<string, CooldownCount>();
  for (const [keyId, raw] of Object.entries(hash)) {
    const bar = raw.indexOf('|');
    const untilMs = Number(bar < 0 ? raw : raw.slice(0, bar));
    if (!(untilMs > now)) continue;
    const provider = keyId.includes('#') ? keyId.slice(0, keyId.lastIndexOf('#')) : keyId;
    const reason = (bar < 0 ? '' : raw.slice(bar + 1)) || 'unknown';
    const id = `${provider}\u0000${reason}`;
    const entry = counts.get(id) ?? { provider, reason, keys: 0 };
    entry.keys += 1;
    counts.set(id, entry);
  }
  return [...counts.values()];
}
