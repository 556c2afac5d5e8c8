import { localeFromLanguageCode, TEXTS } from '@inner-talk/conversation';
import type { Redis } from 'ioredis';
import type { TelegramUpdatePayload } from '@inner-talk/queue';

/** The kind message for a person whose message could not be answered after every attempt. */
export function deadLetterNotice(update: TelegramUpdatePayload): string {
  const from = (update as { message?: { from?: { language_code?: string } } }).message?.from;
  return TEXTS[localeFromLanguageCode(from?.language_code)].couldNotAnswer;
}

const NOTICE_TTL_SECONDS = 86_400;

/**
 * The cluster-wide gate for interim notices (see WorkerBotOptions.claimNotice): one Redis key per
 * update and kind, set only if absent; kept a day, longer than any update waits. Claiming the
 * `unchecked` notice (the crisis contacts with "I will answer as soon as I can") also takes the
 * `wait` one, so "I need a moment" does not follow it for the same message.
 */
export function noticeClaims(redis: Redis, prefix: string): (updateId: number, kind: 'wait' | 'unchecked') => Promise<boolean> {
  const keyOf = (kind: 'wait' | 'unchecked', updateId: number) => `${prefix}:${kind}-notice:${updateId}`;
  return async (updateId, kind) => {
    const first = (await redis.set(keyOf(kind, updateId), '1', 'EX', NOTICE_TTL_SECONDS, 'NX')) === 'OK';
    if (first && kind === 'unchecked') await redis.set(keyOf('wait', updateId), '1', 'EX', NOTICE_TTL_SECONDS);
    return first;
  };
}
