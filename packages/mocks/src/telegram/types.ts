/** Who the emulated user is. Every field has a default, so `{}` is a valid user. */
export interface TelegramUserOptions {
  /** Private chat id; defaults to `userId` (in Telegram a private chat's id is the user's id). */
  chatId?: number;
  /** Telegram user id; default 1001. */
  userId?: number;
  /** Default "Test". */
  firstName?: string;
  lastName?: string;
  /** Default "test_user". */
  username?: string;
  /** IETF language tag the Telegram app reports, e.g. "en" or "ru"; omitted when unset. */
  languageCode?: string;
}

/** One button of an inline keyboard attached to a bot message. */
export interface InlineButton {
  text: string;
  callbackData?: string;
  url?: string;
}

/** A message the bot sent (sendMessage) to a chat, as the emulator stores it; edits update it in place. */
export interface BotMessage {
  messageId: number;
  chatId: number;
  text: string;
  parseMode?: string;
  /** Flattened inline keyboard (row by row), empty when there is none. */
  buttons: InlineButton[];
  /** reply_markup as the bot sent it (parsed), if any. */
  replyMarkup?: unknown;
  /** The stored sendMessage payload (after edits), for anything not mapped above. */
  raw: Record<string, unknown>;
}

/** One call the bot made to the emulated Bot API. */
export interface BotApiCall {
  token: string;
  method: string;
  /** Parameters (JSON body, form fields and query string merged); a multipart file as `{ fileName, size, content }`. */
  payload: Record<string, unknown>;
  /** HTTP status the emulator answered with (0 while the call is in flight). */
  status: number;
  /** Epoch milliseconds when the call arrived. */
  at: number;
}

/** What a user action produced. */
export interface SentUpdate {
  updateId: number;
  /** For messages and commands: the message_id the emulator gave the user's message. */
  messageId?: number;
  /** For button presses: the callback query id the bot must answer. */
  callbackQueryId?: string;
}
