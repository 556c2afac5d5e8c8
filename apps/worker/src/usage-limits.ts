import type { Redis } from 'ioredis';
import type { LimitVerdict, UsageLimits } from '@inner-talk/conversation';
import { METRICS, type MetricsRecorder } from '@inner-talk/telemetry';
import type { Vault } from '@inner-talk/vault';
import { personKeyOf, personKeysOf } from './person-keys';
import { turnReceivedAt } from './turn-context';

const DAY_SECONDS = 86_400;

/**
 * Per-person abuse and cost limits shared by all workers through Redis: at most
 * `messagesPerMinute` messages in a clock minute and `dailyTokenBudget` model tokens per UTC day.
 *
 * Why not the gateway's sliding-log limiter: these limits protect the service from one person, not a
 * provider quota, and a fixed minute window is what the person is told ("in a minute"); a set of
 * turn keys per minute makes a retried turn count once.
 *
 * Fails open (a Redis error admits the message): a limit must never silence someone in distress
 * because Redis hiccupped; the gateway's own limits still protect the providers.
 *
 * Counter keys name the person by pseudonym only (see personKeyOf); a key change starts them afresh.
 */
export class RedisUsageLimits implements UsageLimits {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly options: { vault: Vault; messagesPerMinute: number; dailyTokenBudget: number; metrics?: MetricsRecorder; now?: () => number },
  ) {}

  /**
   * Counts the message (once per `turnKey`, in the minute the person wrote it) and says whether it
   * may be answered: `rate` over the per-minute count, `daily_tokens` over today's token budget. One
   * round trip (a MULTI). Fails open: a Redis error admits it.
   */
  async admit(userId: string, turnKey: string): Promise<LimitVerdict> {
    // The minute the person wrote in, not the one we answer in: after an outage a backlog is
    // answered in a burst, and counting that burst would tell someone who wrote at an ordinary pace
    // to slow down instead of answering them.
    const minute = Math.floor((turnReceivedAt() ?? this.now()) / 60_000);
    const key = `${this.prefix}:limit:{${personKeyOf(this.options.vault, userId)}}:m:${minute}`;
    let verdict: LimitVerdict = 'ok';
    try {
      const result = await this.redis.multi().sadd(key, turnKey).expire(key, 120).scard(key).get(this.dayKey(userId)).exec();
      if (Number(result?.[2]?.[1] ?? 0) > this.options.messagesPerMinute) verdict = 'rate';
      else if (Number(result?.[3]?.[1] ?? 0) >= this.options.dailyTokenBudget) verdict = 'daily_tokens';
    } catch {
      return 'ok';
    }
    if (verdict !== 'ok') this.options.metrics?.record([{ spec: METRICS.limitedMessages, labels: { limit: verdict } }]).catch(() => undefined);
    return verdict;
  }

  /** Model tokens the person spent today (UTC). */
  async tokensToday(userId: string): Promise<number> {
    return Number((await this.redis.get(this.dayKey(userId))) ?? 0);
  }

  async addTokens(userId: string, tokens: number): Promise<void> {
    if (tokens <= 0) return;
    const key = this.dayKey(userId);
    await this.redis
      .multi()
      .incrby(key, Math.round(tokens))
      .expire(key, 2 * DAY_SECONDS)
      .exec()
      .catch(() => undefined);
  }

  /** SCAN patterns of every key of a person's limits, under each key of the ring (for forget): the counters hold turn keys and numbers only. */
  keyPatterns(userId: string): string[] {
    return personKeysOf(this.options.vault, userId).map((name) => `${this.prefix}:limit:{${name}}:*`);
  }

  private dayKey(userId: string): string {
    return `${this.prefix}:limit:{${personKeyOf(this.options.vault, userId)}}:t:${new Date(this.now()).toISOString().slice(0, 10)}`;
  }

  private now(): number {
    return (this.options.now ?? Date.now)();
  }
}
