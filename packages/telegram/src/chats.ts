/**
 * The update types the bot handles; registered as `allowed_updates` with setWebhook and getUpdates,
 * so Telegram does not send anything else (channel posts, inline queries, reactions…).
 */
export const ALLOWED_UPDATES = ['message', 'edited_message', 'callback_query', 'my_chat_member'] as const;

/**
 * Telegram's shared sender ids: each stands for many people, never for one, so nothing said under
 * them may be taken as a person's own (e.g. every anonymous admin of every group is 1087968824).
 */
export const TELEGRAM_SHARED_SENDERS = {
  /** @GroupAnonymousBot: anonymous group admins, with `sender_chat` = the group. */
  anonymousAdmin: 1087968824,
  /** "Telegram": posts of a linked channel forwarded into its discussion group. */
  linkedChannel: 777000,
  /** @Channel_Bot: messages sent on behalf of a channel. */
  channelBot: 136817688,
} as const;

const SHARED_SENDER_IDS: ReadonlySet<unknown> = new Set(Object.values(TELEGRAM_SHARED_SENDERS));

/** True for one of Telegram's shared sender ids (the id may arrive as a number or a string). */
export function isSharedSender(id: unknown): boolean {
  return SHARED_SENDER_IDS.has(typeof id === 'string' ? Number(id) : id);
}
