import type { InboxEntry, TelegramUpdatePayload } from '@inner-talk/queue';
import { commandOf, writtenText, type ReadableMessage } from './message-text';

/** How rapid consecutive messages are merged into one turn. */
export interface CoalescePolicy {
  /** Messages at most this far apart (by ingress receipt) belong to one turn. 0 turns merging off. */
  windowMs: number;
  /** At most this many messages in one turn. */
  maxMessages: number;
  /** At most this many characters of merged text. */
  maxChars: number;
}

type InboxMessage = ReadableMessage & { from?: { id?: number }; chat?: { id?: number }; caption_entities?: unknown; reply_markup?: unknown };

/**
 * A message whose words are the turn: a text that is not a command, or a caption (the only kinds of
 * update that merge). What counts as a command is decided as the bot decides it (commandOf).
 */
function plainText(update: TelegramUpdatePayload): (InboxMessage & { words: string }) | null {
  const message = (update as { message?: InboxMessage }).message;
  if (!message || typeof message !== 'object') return null;
  const words = writtenText(message);
  if (typeof words !== 'string' || commandOf(message) !== null) return null;
  return { ...message, words };
}

/**
 * How many entries at the head of an inbox form one turn: the head plus the plain texts of the same
 * sender that follow it closely (each within `windowMs` of the previous one). People often send a
 * thought as several short messages; answering them as one turn reads better and costs one model
 * call instead of several. Commands, buttons and other kinds never merge. Always ≥ 1 for a
 * non-empty list. Pure.
 */
export function turnLength(entries: readonly InboxEntry[], policy: CoalescePolicy): number {
  const head = entries[0];
  if (!head) return 0;
  const first = plainText(head.update);
  if (!first || policy.windowMs <= 0) return 1;
  let length = 1;
  let chars = first.words.length;
  for (let i = 1; i < entries.length && length < policy.maxMessages; i += 1) {
    const entry = entries[i]!;
    const message = plainText(entry.update);
    if (!message || message.from?.id !== first.from?.id) break;
    if (entry.receivedAt - entries[i - 1]!.receivedAt > policy.windowMs) break;
    chars += 1 + message.words.length;
    if (chars > policy.maxChars) break;
    length += 1;
  }
  return length;
}

/**
 * The update the bot handles for a turn of `entries` (from {@link turnLength}): the head itself, or
 * for several messages the head as one text message with their texts and captions joined by new
 * lines (formatting entities dropped, since their offsets no longer fit). The head's update_id
 * names the turn. Pure.
 */
export function turnUpdate(entries: readonly InboxEntry[]): TelegramUpdatePayload {
  const [head, ...rest] = entries;
  if (!head) throw new RangeError('turnUpdate needs at least one entry');
  if (rest.length === 0) return head.update;
  const { words: _words, ...message } = plainText(head.update)!;
  const text = entries.map((e) => plainText(e.update)!.words).join('\n');
  const merged: InboxMessage = { ...message, text };
  delete merged.entities;
  delete merged.caption;
  delete merged.caption_entities;
  return { ...head.update, message: merged };
}
