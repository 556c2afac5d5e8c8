/** Telegram's header carrying the webhook secret token (setWebhook's `secret_token`). */
export const WEBHOOK_SECRET_HEADER = 'x-telegram-bot-api-secret-token';

/** Who sends a {@link textUpdate}; defaults match a consenting English-speaking adult named Ann. */
export interface TextUpdateOptions {
  firstName?: string;
  languageCode?: string;
  /** Unix seconds; default now. */
  date?: number;
}

/**
 * A text message in a private chat, shaped as Telegram delivers it to a webhook (in a private chat
 * the chat id is the user id). For tests that act as Telegram themselves instead of going through
 * the emulator, e.g. to redeliver an update or to choose update ids.
 */
export function textUpdate(updateId: number, userId: number, text: string, options: TextUpdateOptions = {}) {
  const firstName = options.firstName ?? 'Ann';
  return {
    update_id: updateId,
    message: {
      message_id: updateId,
      date: options.date ?? Math.floor(Date.now() / 1000),
      chat: { id: userId, type: 'private', first_name: firstName },
      from: { id: userId, is_bot: false, first_name: firstName, language_code: options.languageCode ?? 'en' },
      text,
    },
  };
}

/**
 * POSTs `update` to an ingress webhook as Telegram does: JSON with the secret token header, or
 * without the header when `secret` is null.
 */
export function postUpdate(url: string, update: unknown, secret: string | null): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(secret !== null && { [WEBHOOK_SECRET_HEADER]: secret }) },
    body: JSON.stringify(update),
  });
}
