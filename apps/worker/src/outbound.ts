import { AsyncLocalStorage } from 'node:async_hooks';
import type { Transformer } from 'grammy';
import type { Redis } from 'ioredis';
import { chatKeyPrefix } from '@inner-talk/queue';
import { METRICS, type MetricsRecorder } from '@inner-talk/telemetry';

/** Bot API methods that put a message in front of the person: the ones a retried turn must not repeat. */
const DELIVERIES = new Set(['sendMessage', 'sendDocument']);

interface TurnState {
  key: string;
  /** Messages of this turn already delivered (by an earlier attempt, or this one so far). */
  delivered: number;
  /** Index of the next message this attempt sends. */
  next: number;
}

const TTL_SECONDS = 7 * 86_400;

/**
 * Remembers, per turn, how many reply messages Telegram already accepted, so a turn that runs again
 * (a retry after a failure half-way, a stalled job re-run after a crash) sends only what is missing.
 * Replies of a turn are deterministic on a re-run (the conversation stores its reply before sending),
 * so "the n-th message of the turn" identifies a message.
 *
 * Guarantees: a message is skipped only after Telegram accepted it and the count was stored. A crash
 * between Telegram's answer and the count can repeat that one message (Telegram offers no idempotency
 * key); nothing is ever left unsent. State lives 7 days in Redis under the chat's hash tag.
 */
export class DeliveryLedger {
  private readonly turns = new AsyncLocalStorage<TurnState>();

  /**
   * @param sentOnlyNotices true for errors after which the messages an attempt sent were interim
   *   notices (e.g. "I need a moment" when every provider is down), not parts of the reply: they
   *   are not counted, so the real reply is sent in full on the next attempt.
   */
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly options: { metrics?: MetricsRecorder; sentOnlyNotices?: (error: unknown) => boolean } = {},
  ) {}

  /** The Redis key of a turn's count; delete it once the turn can no longer run again. */
  keyOf(chat: string, turnKey: string): string {
    return `${chatKeyPrefix(this.prefix, chat)}sent:${turnKey}`;
  }

  /** Runs `handle` as turn `turnKey` of `chat`: deliveries inside it go through the ledger. */
  async run<T>(chat: string, turnKey: string, handle: () => Promise<T>): Promise<T> {
    const key = this.keyOf(chat, turnKey);
    const delivered = Number((await this.redis.get(key)) ?? 0);
    const turn: TurnState = { key, delivered, next: 0 };
    try {
      return await this.turns.run(turn, handle);
    } catch (error) {
      if (turn.delivered > delivered && this.options.sentOnlyNotices?.(error)) {
        await this.redis.set(key, delivered, 'EX', TTL_SECONDS);
      }
      throw error;
    }
  }

  /** The API transformer; install it outermost (after auto-retry) so it sees each logical call once. */
  transformer(): Transformer {
    return async (prev, method, payload, signal) => {
      const turn = this.turns.getStore();
      if (!turn || !DELIVERIES.has(method)) return prev(method, payload, signal);
      const index = turn.next;
      turn.next += 1;
      if (index < turn.delivered) {
        this.options.metrics?.record([{ spec: METRICS.deliveriesSkipped }]).catch(() => undefined);
        // Shaped like Telegram's answer; message_id 0 marks it as not sent now.
        const chatId = (payload as { chat_id?: number | string }).chat_id;
        return { ok: true, result: { message_id: 0, date: Math.floor(Date.now() / 1000), chat: { id: chatId, type: 'private' } } } as never;
      }
      const response = await prev(method, payload, signal);
      if (response.ok) {
        await this.redis.multi().incr(turn.key).expire(turn.key, TTL_SECONDS).exec();
        turn.delivered = Math.max(turn.delivered, index + 1);
      }
      return response;
    };
  }
}

/** Raised instead of calling Telegram while a chat cools down longer than a turn may wait. */
export class TelegramCooldownError extends Error {
  override readonly name = 'TelegramCooldownError';
  constructor(readonly until: number) {
    super(`chat is cooling down after Telegram's 429 until ${new Date(until).toISOString()}`);
  }
}

/**
 * Shares Telegram's flood control between workers: a 429 seen by one worker cools that chat for
 * every worker until `retry_after` (a new cooldown never shortens a longer one), and every call to a
 * cooling chat waits it out first — up to `maxWaitMs`, beyond which it throws TelegramCooldownError
 * so the turn is retried later instead of holding a worker slot. Install it innermost (below
 * auto-retry), so each attempt is checked and each 429 is shared. The cooldown key is named by
 * `chatKeyOf(chat id)` (the chat's pseudonym), never by the chat id.
 */
export function sharedFloodControl(
  redis: Redis,
  prefix: string,
  options: { maxWaitMs: number; chatKeyOf: (chatId: string) => string; metrics?: MetricsRecorder; now?: () => number },
): Transformer {
  const now = options.now ?? Date.now;
  const keyOf = (chatId: unknown) => (typeof chatId === 'number' || typeof chatId === 'string' ? `${chatKeyPrefix(prefix, options.chatKeyOf(String(chatId)))}tg-cooldown` : null);
  return async (prev, method, payload, signal) => {
    const key = keyOf((payload as { chat_id?: unknown } | undefined)?.chat_id);
    if (key) {
      const waitMs = await redis.pttl(key);
      if (waitMs > options.maxWaitMs) throw new TelegramCooldownError(now() + waitMs);
      if (waitMs > 0) await new Promise((resolve) => setTimeout(resolve, waitMs));
    }
    const response = await prev(method, payload, signal);
    const retryAfter = response.ok ? undefined : response.parameters?.retry_after;
    if (key && !response.ok && response.error_code === 429 && typeof retryAfter === 'number' && retryAfter > 0) {
      const ms = Math.ceil(retryAfter * 1000);
      // NX sets a new cooldown; PEXPIRE GT extends an existing one and never shortens it.
      await redis.multi().set(key, '1', 'PX', ms, 'NX').pexpire(key, ms, 'GT').exec();
      options.metrics?.record([{ spec: METRICS.telegramCooldowns }]).catch(() => undefined);
    }
    return response;
  };
}

/**
 * Telegram rejects a message whose markup it cannot parse (400). Replies are meant to arrive
 * anyway: the same message is sent once more as plain text. Decided by the status and the presence
 * of a parse mode, never by the error text.
 */
export function plainTextFallback(): Transformer {
  return async (prev, method, payload, signal) => {
    const response = await prev(method, payload, signal);
    const withMarkup = payload as { parse_mode?: string; entities?: unknown } | undefined;
    if (!response.ok && response.error_code === 400 && method === 'sendMessage' && withMarkup?.parse_mode) {
      const plain = { ...withMarkup } as Record<string, unknown>;
      delete plain.parse_mode;
      return prev(method, plain as typeof payload, signal);
    }
    return response;
  };
}
