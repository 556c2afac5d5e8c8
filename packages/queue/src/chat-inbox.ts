import path from 'node:path';
import type { Redis } from 'ioredis';
import { defineLuaScripts } from '@inner-talk/redis-lua';
import { VaultError, type Vault } from '@inner-talk/vault';
import { chatKeyOf } from './chat-key';
import { UnstorableUpdateError, type TelegramUpdatePayload } from './jobs';

const SCRIPTS = defineLuaScripts(path.join(__dirname, 'lua'), 'innerTalkChatInbox', {
  push: { file: 'inbox_push', keys: 2 },
  acquire: { file: 'drain_acquire', keys: 1 },
  done: { file: 'drain_done', keys: 'variable' },
  release: { file: 'drain_release', keys: 2 },
});

/** One accepted update waiting in its chat's inbox. */
export interface InboxEntry {
  updateId: number;
  update: TelegramUpdatePayload;
  /** When the ingress received it (ms since epoch): the start of end-to-end latency. */
  receivedAt: number;
  /** Correlation id shared by the ingress and worker log lines of this update. */
  traceId: string;
  /**
   * Set when the entry did not open (sealed under a key no longer in the ring, or changed): `update`
   * then holds only its update_id, so the turn does nothing and the chat moves on instead of stalling.
   */
  unreadable?: true;
}

/** A handled entry that could not be answered after every attempt, kept for an operator. */
export interface DeadLetter {
  /** The chat's pseudonym (as in job data), never the chat id. */
  chat: string;
  updateIds: number[];
  /** Error class and kind only: messages may quote user text. */
  error: Record<string, unknown>;
  attempts: number;
  at: number;
}

/** Result of {@link ChatInbox.done}. */
export type DoneResult = { kind: 'left'; left: number } | { kind: 'lost_lock' } | { kind: 'already_removed' };

/**
 * Per-chat inboxes in Redis: what keeps one person's messages in order across any number of worker
 * processes. Open-source BullMQ has no per-group ordering, and retries or stalled jobs reorder work,
 * so the order lives here, not in the queue: the ingress appends each update to its chat's list; a
 * worker that holds the chat's lock handles entries from the head and removes each only after it
 * was handled; queue jobs are mere triggers that say "this chat has work".
 *
 * Keys share the hash tag `{<chat>}`, so every multi-key script runs on one Redis Cluster slot.
 *
 * Nothing here names the person or holds what they wrote in plaintext: `<chat>` in key names, job
 * data, dead letters and the chat index is a keyed pseudonym of the chat id
 * ({@link ChatInbox.pseudonymOf}), and each entry is sealed by the vault (bound to its chat and
 * update_id) before it leaves the ingress; only the update_id, which routing and the Lua scripts
 * need, stays readable. The real chat id travels only inside the sealed update.
 */
export class ChatInbox {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly vault: Vault,
  ) {}

  /**
   * The pseudonym that names the chat `routingKey` (a {@link chatKeyOf} value, e.g. the chat id)
   * in Redis key names and job data: HMAC-SHA256 under a key derived from the current data
   * encryption key (see Vault.pseudonym). It changes when the current key changes; `push` keeps
   * using an older key's pseudonym while that one still has queued work, so a chat's order
   * survives a key change.
   */
  pseudonymOf(routingKey: string): string {
    return this.vault.pseudonym(routingKey, CHAT_PSEUDONYM_PURPOSE);
  }

  /** Every pseudonym `routingKey` may be stored under: one per key of the ring, the current one first. */
  pseudonymsOf(routingKey: string): string[] {
    return this.vault.pseudonyms(routingKey, CHAT_PSEUDONYM_PURPOSE);
  }

  private key(chat: string, part: string): string {
    return `${chatKeyPrefix(this.prefix, chat)}${part}`;
  }

  /** Sorted set of chats that received updates, scored by the last arrival (for the sweeper). */
  private get chatsKey(): string {
    return `${this.prefix}:chats`;
  }

  /**
   * Appends `update`, sealed, to its chat's inbox, at most once per update_id within `dedupeTtlMs`.
   * Resolves after Redis stored it; rejects if it could not (the caller must then not acknowledge).
   * Calling it again for a redelivered update is safe: nothing is appended twice. `chat` is the
   * chat's pseudonym, the only name of the chat to put in job data.
   */
  async push(update: TelegramUpdatePayload, receivedAt: number, traceId: string, dedupeTtlMs: number): Promise<{ chat: string; appended: boolean }> {
    const chat = await this.chatForPush(chatKeyOf(update), update.update_id);
    let json: string;
    try {
      json = JSON.stringify({ update, receivedAt, traceId });
    } catch (error) {
      throw new UnstorableUpdateError(update.update_id, { cause: error });
    }
    const entry = `${update.update_id}|${this.vault.seal(json, entryAad(chat, update.update_id))}`;
    const appended = await SCRIPTS.run(this.redis, 'push', [this.key(chat, `seen:${update.update_id}`), this.key(chat, 'inbox')], [entry, dedupeTtlMs]);
    await this.redis.zadd(this.chatsKey, receivedAt, chat);
    return { chat, appended: appended === 1 };
  }

  /**
   * The current pseudonym, unless an older key's pseudonym of the chat still has queued work or has
   * seen this update (only while the ring holds several keys, i.e. during a key change): the chat
   * then stays under the old name until its inbox is empty, so its updates are never split over two
   * inboxes that drain side by side, and a redelivery is still recognised.
   */
  private async chatForPush(routingKey: string, updateId: number): Promise<string> {
    const [current, ...older] = this.pseudonymsOf(routingKey) as [string, ...string[]];
    for (const chat of older) {
      const [[, length], [, seen]] = (await this.redis.multi().llen(this.key(chat, 'inbox')).exists(this.key(chat, `seen:${updateId}`)).exec()) as [[unknown, number], [unknown, number]];
      if (length > 0 || seen > 0) return chat;
    }
    return current;
  }

  /** Takes or renews the drain lock of `chat` for `owner`; false if another owner holds it. */
  async acquire(chat: string, owner: string, leaseMs: number): Promise<boolean> {
    return (await SCRIPTS.run(this.redis, 'acquire', [this.key(chat, 'lock')], [owner, Math.max(1, Math.round(leaseMs))])) === 1;
  }

  /**
   * Gives the lock up if `owner` holds it: `always` (a hand-over to a queued job) or `if_empty`
   * (only when nothing waits; checked atomically with the release). Returns what happened.
   */
  async release(chat: string, owner: string, mode: 'always' | 'if_empty'): Promise<'released' | 'not_owner' | 'not_empty'> {
    const result = await SCRIPTS.run(this.redis, 'release', [this.key(chat, 'lock'), this.key(chat, 'inbox')], [owner, mode]);
    return result === 1 ? 'released' : result === 2 ? 'not_empty' : 'not_owner';
  }

  /**
   * The first `limit` entries of the inbox, oldest first, opened, without removing them. An entry
   * that does not open (sealed under a key no longer in the ring, or moved from another chat) comes
   * back marked `unreadable`, with an update that carries only its update_id.
   */
  async peek(chat: string, limit: number): Promise<InboxEntry[]> {
    const raw = await this.redis.lrange(this.key(chat, 'inbox'), 0, limit - 1);
    return raw.map((entry) => this.openEntry(chat, entry));
  }

  private openEntry(chat: string, raw: string): InboxEntry {
    const bar = raw.indexOf('|');
    const updateId = Number(raw.slice(0, bar));
    let opened: string;
    try {
      opened = this.vault.open(raw.slice(bar + 1), entryAad(chat, updateId));
    } catch (error) {
      if (!(error instanceof VaultError)) throw error;
      return { updateId, update: { update_id: updateId }, receivedAt: Date.now(), traceId: `unreadable-${updateId}`, unreadable: true };
    }
    return { updateId, ...(JSON.parse(opened) as Omit<InboxEntry, 'updateId'>) };
  }

  /** How many entries wait in the chat's inbox. */
  async length(chat: string): Promise<number> {
    return this.redis.llen(this.key(chat, 'inbox'));
  }

  /**
   * Removes the `count` entries at the head after they were handled, if `owner` still holds the
   * lock and the head is still `headUpdateId`; with `release`, lets the lock go when nothing is left.
   * With the entries go the turn's size marker and `turnKeys` (keys under {@link chatKeyPrefix} that
   * only matter while the turn may run again, e.g. its delivery ledger), so a handled turn leaves
   * nothing behind.
   */
  async done(chat: string, owner: string, headUpdateId: number, count: number, release: boolean, turnKeys: readonly string[] = []): Promise<DoneResult> {
    const keys = [this.key(chat, 'lock'), this.key(chat, 'inbox'), this.key(chat, 'fails'), this.key(chat, `turn:${headUpdateId}`), ...turnKeys];
    const left = Number(await SCRIPTS.run(this.redis, 'done', keys, [owner, String(headUpdateId), count, release ? '1' : '0']));
    if (left === -1) return { kind: 'lost_lock' };
    if (left === -2) return { kind: 'already_removed' };
    return { kind: 'left', left };
  }

  /** Counts one more failed attempt at the update and returns the total so far. */
  async recordFailure(chat: string, updateId: number): Promise<number> {
    const key = this.key(chat, 'fails');
    const [[, count]] = (await this.redis.multi().hincrby(key, String(updateId), 1).pexpire(key, 7 * 86_400_000).exec()) as [[unknown, number]];
    return count;
  }

  /**
   * Counts one more time the update had to wait without it being its fault (e.g. the crisis check
   * could not run) and returns the total so far; this never leads to a dead letter, it only paces
   * the waiting. Kept under {@link deferralsKey}, which the caller passes to `done` as a turn key.
   */
  async recordDeferral(chat: string, updateId: number): Promise<number> {
    const key = this.deferralsKey(chat, updateId);
    const [[, count]] = (await this.redis.multi().incr(key).pexpire(key, 7 * 86_400_000).exec()) as [[unknown, number]];
    return count;
  }

  /** The key of an update's deferral count (see recordDeferral). */
  deferralsKey(chat: string, updateId: number): string {
    return this.key(chat, `deferrals:${updateId}`);
  }

  /**
   * How many entries the turn starting at `headUpdateId` covers. The first caller fixes it to
   * `proposed`; later callers (a retry after a crash) get the same number, so a coalesced turn
   * whose reply was already stored is never re-cut when more messages have arrived meanwhile.
   */
  async turnSize(chat: string, headUpdateId: number, proposed: number): Promise<number> {
    const key = this.key(chat, `turn:${headUpdateId}`);
    const [, [, stored]] = (await this.redis.multi().set(key, proposed, 'PX', 7 * 86_400_000, 'NX').get(key).exec()) as [unknown, [unknown, string | null]];
    const size = Number(stored ?? proposed);
    return Number.isInteger(size) && size > 0 ? size : proposed;
  }

  /** Stores entries that failed every attempt as a dead letter (kept 7 days for an operator). */
  async deadLetter(letter: DeadLetter): Promise<void> {
    const member = `${letter.chat}|${letter.updateIds[0]}`;
    await this.redis
      .multi()
      .zadd(deadLettersKey(this.prefix), letter.at, member)
      .hset(deadLetterDataKey(this.prefix), member, JSON.stringify(letter))
      .exec();
  }

  /**
   * Chats whose last arrival is older than `idleMs` and that still have entries but no lock: their
   * trigger jobs were lost (e.g. a job failed for good after repeated crashes). Chats found empty are
   * dropped from the index. At most `limit` per call.
   */
  async strandedChats(idleMs: number, limit: number, now = Date.now()): Promise<string[]> {
    const candidates = await this.redis.zrangebyscore(this.chatsKey, '-inf', now - idleMs, 'LIMIT', 0, limit);
    const stranded: string[] = [];
    for (const chat of candidates) {
      const [[, length], [, locked]] = (await this.redis.multi().llen(this.key(chat, 'inbox')).exists(this.key(chat, 'lock')).exec()) as [[unknown, number], [unknown, number]];
      if (length === 0) await this.redis.zrem(this.chatsKey, chat);
      else if (locked === 0) stranded.push(chat);
    }
    return stranded;
  }

  /**
   * Deletes what is kept for the chat `routingKey` (under each of its pseudonyms) besides its live
   * inbox: dead letters, failure counters, redelivery and turn markers, delivery ledgers. The inbox
   * and its lock stay: the turn that asked for this holds the lock and removes itself when done,
   * and whatever waits behind it was sent afterwards (it is handled like any new message).
   * Idempotent.
   */
  async forget(routingKey: string): Promise<number> {
    let deleted = 0;
    for (const chat of this.pseudonymsOf(routingKey)) deleted += await this.forgetChat(chat);
    return deleted;
  }

  private async forgetChat(chat: string): Promise<number> {
    let deleted = 0;
    let cursor = '0';
    const live = new Set([this.key(chat, 'inbox'), this.key(chat, 'lock')]);
    do {
      const [next, found] = await this.redis.scan(cursor, 'MATCH', `${this.prefix}:chat:{${chat}}:*`, 'COUNT', 500);
      cursor = next;
      const keys = found.filter((k) => !live.has(k));
      if (keys.length) deleted += await this.redis.del(...keys);
    } while (cursor !== '0');
    await this.redis.zrem(this.chatsKey, chat);
    const letters = (await this.redis.zrange(deadLettersKey(this.prefix), '0', '-1')).filter((m) => m.startsWith(`${chat}|`));
    if (letters.length) {
      await this.redis.multi().zrem(deadLettersKey(this.prefix), ...letters).hdel(deadLetterDataKey(this.prefix), ...letters).exec();
      deleted += letters.length;
    }
    return deleted;
  }
}

/**
 * The start of every Redis key kept for one chat (`<prefix>:chat:{<chat>}:`): keys under it share
 * the chat's hash tag (one Redis Cluster slot with the inbox) and are covered by `forget`.
 */
export function chatKeyPrefix(prefix: string, chat: string): string {
  return `${prefix}:chat:{${chat}}:`;
}

/** Sorted set of dead letters (member `<chat>|<first update_id>`, score = when). */
export function deadLettersKey(prefix: string): string {
  return `${prefix}:dead-letters`;
}

function deadLetterDataKey(prefix: string): string {
  return `${prefix}:dead-letter-data`;
}

/** Purpose of chat pseudonyms (see Vault.pseudonym): other pseudonyms of the same id differ. */
const CHAT_PSEUDONYM_PURPOSE = 'chat';

/** Binds a sealed entry to its chat and update: an entry moved to another inbox does not open. */
function entryAad(chat: string, updateId: number): string {
  return `inbox|${chat}|${updateId}`;
}
