import type { Redis } from 'ioredis';
import type { Db } from 'mongodb';
import type { DataRights } from '@inner-talk/conversation';
import type { ChatInbox } from '@inner-talk/queue';
import { exportUserData, forgetUserData, recordAudit } from '@inner-talk/storage';
import type { Vault } from '@inner-talk/vault';

export interface WorkerDataRightsDeps {
  db: Db;
  vault: Vault;
  redis: Redis;
  inbox: ChatInbox;
  /** Redis keys (or SCAN patterns, with `*`) that hold something of the person, e.g. the context cache. */
  redisKeysOf(userId: string): string[];
  /**
   * Redis keys deleted only after MongoDB: what lets a retried forget be honoured until everything
   * else is gone (the person's button nonces, which confirm the `/forget` press).
   */
  lastRedisKeysOf?(userId: string): string[];
  /** Anything else kept per chat outside those keys (e.g. the active-people gauge's member). */
  forgetChat?(chat: string): Promise<void>;
}

/**
 * `/export` and `/forget` over everything the worker keeps: MongoDB (every personal collection),
 * Redis (the person's cached context, limit counters, dead letters of their chat, which hold
 * message payloads) — each access written to the audit log with ids and counts only.
 *
 * Forget order: queued material and caches first, then MongoDB, so nothing rebuilt from MongoDB can
 * outlive it; then the audit entry; the button nonces last, so a forget retried after failing
 * half-way is still confirmed by the person's own press. Every step is idempotent, so a retried
 * forget finishes the job. Telegram user ids are chat ids in private chats, which is the only kind
 * of chat the bot serves.
 */
export class WorkerDataRights implements DataRights {
  constructor(private readonly deps: WorkerDataRightsDeps) {}

  async exportData(userId: string, turnKey: string): Promise<string> {
    const data = await exportUserData(this.deps.db, this.deps.vault, userId);
    const documents = Object.values(data.collections).reduce((n, docs) => n + docs.length, 0);
    await recordAudit(this.deps.db, { id: `export|${userId}|${turnKey}`, actor: `user:${userId}`, action: 'data.export', subject: userId, at: new Date(), details: { documents } });
    return JSON.stringify(data, null, 2);
  }

  async forget(userId: string, turnKey: string): Promise<void> {
    const chat = chatOf(userId);
    const deadLetters = chat === null ? 0 : await this.deps.inbox.forget(chat);
    if (chat !== null) await this.deps.forgetChat?.(chat);
    let redisKeys = 0;
    for (const pattern of this.deps.redisKeysOf(userId)) redisKeys += await this.deleteKeys(pattern);
    const deleted = await forgetUserData(this.deps.db, userId);
    const documents = Object.values(deleted).reduce((n, c) => n + c, 0);
    await recordAudit(this.deps.db, { id: `forget|${userId}|${turnKey}`, actor: `user:${userId}`, action: 'data.forget', subject: userId, at: new Date(), details: { documents, deadLetters, redisKeys } });
    for (const pattern of this.deps.lastRedisKeysOf?.(userId) ?? []) await this.deleteKeys(pattern);
  }

  private async deleteKeys(pattern: string): Promise<number> {
    if (!pattern.includes('*')) return this.deps.redis.del(pattern);
    let deleted = 0;
    let cursor = '0';
    do {
      const [next, keys] = await this.deps.redis.scan(cursor, 'MATCH', pattern, 'COUNT', 500);
      if (keys.length > 0) deleted += await this.deps.redis.del(...keys);
      cursor = next;
    } while (cursor !== '0');
    return deleted;
  }
}

/** The Telegram chat of a person (`tg:42` → `42`), or null for another channel. */
function chatOf(userId: string): string | null {
  const match = /^tg:(-?\d+)$/.exec(userId);
  return match ? match[1]! : null;
}
