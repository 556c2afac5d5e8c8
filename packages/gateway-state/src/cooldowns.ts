import type { Redis } from 'ioredis';
import { GatewayStateConfigError } from './errors';
import { RedisGuard, type RedisCallPolicy } from './redis';
import { queueScript, scriptPipeline } from './scripts';

/** An active cooldown of one API key. */
export interface ActiveCooldown {
  /** End of the cooldown, epoch ms. */
  untilMs: number;
  /** Why, as given to setCooldown (e.g. 'rate_limit', 'daily_quota'). */
  reason: string;
}

/** Answer of {@link Cooldowns.setCooldown}. */
export interface SetCooldownResult {
  /** The key's cooldown end after this call (epoch ms; ≥ the requested end unless that was already past; 0 if none). */
  untilMs: number;
  /** Whether this call extended (or started) the cooldown. */
  changed: boolean;
  /** Only recorded in this process for now (see {@link Cooldowns}). */
  degraded: boolean;
}

export interface CooldownsOptions extends RedisCallPolicy {
  /** A client from {@link createGatewayRedis} (or one configured alike); the caller owns it. */
  redis: Redis;
  /** Key prefix shared by all processes of the cluster. */
  prefix: string;
}

/** The Redis key holding every cooldown: one hash, so reads of many keys are one command and it works on Redis Cluster. */
export function cooldownsKey(prefix: string): string {
  return `${prefix}:cooldowns`;
}

type Pending = { mode: 'at' | 'for'; value: number; reason: string; untilMs: number };

/**
 * Cluster-wide cooldowns per API key id (a provider 429, an exhausted daily quota).
 *
 * Guarantees while Redis answers:
 * - a new cooldown never shortens an existing one: the end is an atomic maximum inside one script;
 * - "active" is judged on Redis TIME, the same clock for every process;
 * - `cooldowns(keyIds)` is one round trip for any number of keys; ended cooldowns are removed and
 *   the hash expires when its last cooldown ends.
 *
 * When Redis is slow or away: no call throws or waits longer than `timeoutMs` (with a shared
 * RedisHealth only calls already waiting on Redis when it fails wait). This process keeps a local
 * copy and answers from it with `degraded: true`. The copy holds, per key, Redis's last answer
 * (Redis is authoritative: a cooldown that ended or vanished there, e.g. after a Redis restart, is
 * dropped here on the next read) and whatever was set here while degraded; the latter is written to
 * Redis (before anything else) on the next call that reaches it, harmlessly because setting is a
 * maximum. The copy is only consulted while Redis does not answer, so callers never see it disagree
 * with a reachable Redis.
 */
export class Cooldowns {
  private readonly guard: RedisGuard;
  private readonly key: string;
  private readonly local = new Map<string, ActiveCooldown>();
  private readonly pending = new Map<string, Pending>();

  constructor(options: CooldownsOptions) {
    this.guard = new RedisGuard(options.redis, options);
    this.key = cooldownsKey(options.prefix);
  }

  /** Puts `keyId` into cooldown until `untilEpochMs` unless it already cools down longer. */
  setCooldown(keyId: string, untilEpochMs: number, reason: string): Promise<SetCooldownResult> {
    if (!Number.isFinite(untilEpochMs)) throw new GatewayStateConfigError('untilEpochMs', `must be a finite epoch ms, got ${untilEpochMs}`);
    return this.set(keyId, { mode: 'at', value: Math.ceil(untilEpochMs), reason, untilMs: Math.ceil(untilEpochMs) });
  }

  /**
   * Like {@link setCooldown} with the end computed on Redis TIME as now + `durationMs`: prefer it for a
   * provider's Retry-After, so a worker with a skewed clock does not shorten or stretch the wait.
   */
  setCooldownFor(keyId: string, durationMs: number, reason: string): Promise<SetCooldownResult> {
    if (!Number.isFinite(durationMs) || durationMs < 0) throw new GatewayStateConfigError('durationMs', `must be a finite number ≥ 0, got ${durationMs}`);
    return this.set(keyId, { mode: 'for', value: Math.ceil(durationMs), reason, untilMs: Date.now() + Math.ceil(durationMs) });
  }

  /** The active cooldowns among `keyIds` (keys without one are absent), in one round trip. */
  async cooldowns(keyIds: readonly string[]): Promise<{ active: Map<string, ActiveCooldown>; degraded: boolean }> {
    const unique = [...new Set(keyIds)];
    const active = new Map<string, ActiveCooldown>();
    if (unique.length === 0) return { active, degraded: false };
    const answer = await this.guard.run('cooldowns.read', async (redis) => {
      const replay = this.takePending();
      const pipeline = scriptPipeline(redis);
      for (const [id, p] of replay) queueScript(pipeline, 'cooldownSet', [this.key], [id, p.mode, p.value, p.reason]);
      queueScript(pipeline, 'cooldownGet', [this.key], unique);
      const results = await this.execOrRestore(pipeline, replay);
      return results[results.length - 1]!;
    });
    if (answer.ok && !answer.value[0]) {
      const reply = answer.value[1] as Array<string | number>;
      for (let i = 1; i + 2 < reply.length; i += 3) active.set(String(reply[i]), { untilMs: Number(reply[i + 1]), reason: String(reply[i + 2]) });
      // Redis is authoritative for the keys it was asked about (what we set while degraded was
      // replayed to it in the same pipeline, so nothing of ours is lost here).
      for (const id of unique) {
        const entry = active.get(id);
        if (entry) this.remember(id, { ...entry });
        else if (!this.pending.has(id)) this.local.delete(id);
      }
      return { active, degraded: false };
    }
    const now = Date.now();
    for (const id of unique) {
      const entry = this.local.get(id);
      if (entry && entry.untilMs > now) active.set(id, { ...entry });
    }
    return { active, degraded: true };
  }

  private async set(keyId: string, request: Pending): Promise<SetCooldownResult> {
    const answer = await this.guard.run('cooldowns.set', async (redis) => {
      const replay = this.takePending();
      const pipeline = scriptPipeline(redis);
      for (const [id, p] of replay) queueScript(pipeline, 'cooldownSet', [this.key], [id, p.mode, p.value, p.reason]);
      queueScript(pipeline, 'cooldownSet', [this.key], [keyId, request.mode, request.value, request.reason]);
      const results = await this.execOrRestore(pipeline, replay);
      return results[results.length - 1]!;
    });
    if (answer.ok && !answer.value[0]) {
      const [untilMs, changed, , reason] = answer.value[1] as [number, number, number, string];
      if (untilMs > 0) this.remember(keyId, { untilMs, reason });
      else if (!this.pending.has(keyId)) this.local.delete(keyId);
      return { untilMs, changed: changed === 1, degraded: false };
    }
    const now = Date.now();
    const before = this.local.get(keyId);
    const current = before && before.untilMs > now ? before.untilMs : 0;
    if (request.untilMs <= now || request.untilMs <= current) return { untilMs: current, changed: false, degraded: true };
    this.local.set(keyId, { untilMs: request.untilMs, reason: request.reason });
    // Replayed later as an absolute end: a duration replayed then would stretch the cooldown.
    const queued = this.pending.get(keyId);
    if (!queued || queued.untilMs < request.untilMs) this.pending.set(keyId, { ...request, mode: 'at', value: request.untilMs });
    return { untilMs: request.untilMs, changed: true, degraded: true };
  }

  /** Stores Redis's answer for `keyId` (it already includes anything set here: setting is a maximum there). */
  private remember(keyId: string, entry: ActiveCooldown): void {
    this.local.set(keyId, entry);
    if (this.local.size > 10_000) {
      const now = Date.now();
      for (const [id, e] of this.local) if (e.untilMs <= now) this.local.delete(id);
    }
  }

  /** Pending (degraded) cooldowns still worth replaying; removed from the queue. */
  private takePending(): Map<string, Pending> {
    const now = Date.now();
    const replay = new Map<string, Pending>();
    for (const [id, p] of this.pending) if (p.untilMs > now) replay.set(id, p);
    this.pending.clear();
    return replay;
  }

  private async execOrRestore(pipeline: ReturnType<typeof scriptPipeline>, replay: Map<string, Pending>): Promise<Array<[Error | null, unknown]>> {
    try {
      const results = await pipeline.exec();
      if (!results) throw new Error('pipeline discarded');
      return results;
    } catch (error) {
      for (const [id, p] of replay) if (!this.pending.has(id)) this.pending.set(id, p);
      throw error;
    }
  }
}
