import type { BotApiCall, BotMessage, InlineButton, SentUpdate, TelegramUserOptions } from './types';

/**
 * A Telegram user in a private chat with one bot, acting over HTTP on the emulator's user-side routes
 * (so it works in-process and against the CLI emulator in another process alike).
 */
export interface TelegramUserClient {
  readonly token: string;
  readonly chatId: number;
  readonly userId: number;
  /** The user sends a text message. */
  sendText(text: string): Promise<SentUpdate>;
  /** The user sends a command, e.g. `/start` or `/start payload` (a `bot_command` entity is attached). */
  sendCommand(command: string): Promise<SentUpdate>;
  /**
   * The user presses an inline button: a callback query with `callbackData`, attached to the newest bot
   * message in this chat that has such a button (or to `messageId`). Fails if no message has it.
   */
  pressButton(callbackData: string, options?: { messageId?: number }): Promise<SentUpdate>;
  /** Every message the bot sent to this chat and did not delete, oldest first (edits applied). */
  botMessages(): Promise<BotMessage[]>;
  /**
   * Waits until the bot has sent `count` messages to this chat that no earlier call of this method
   * returned, and returns exactly those (oldest first). Rejects after `timeoutMs` (default 5000) with
   * what did arrive and the bot's failed API calls.
   */
  waitForBotMessages(count?: number, timeoutMs?: number): Promise<BotMessage[]>;
  /** The bot's Bot API calls (optionally of one method), oldest first. */
  apiCalls(method?: string): Promise<BotApiCall[]>;
}

/** What the emulator's getMe answers; used as the author of bot messages in callback queries. */
const EMULATED_BOT_USER = { id: 666, is_bot: true, first_name: 'Test First name', username: 'TestNameBot' } as const;

interface EmulatorReply<T> {
  ok?: boolean;
  result?: T;
  description?: string;
  message?: string;
}

async function post<T>(url: string, body: unknown): Promise<T> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(30_000),
  });
  const text = await response.text();
  let reply: EmulatorReply<T>;
  try {
    reply = JSON.parse(text) as EmulatorReply<T>;
  } catch {
    throw new Error(`Telegram emulator: ${url} answered HTTP ${response.status} with non-JSON: ${text.slice(0, 300)}`);
  }
  if (!response.ok || reply.ok !== true) {
    throw new Error(`Telegram emulator: ${url} answered HTTP ${response.status}: ${reply.description ?? reply.message ?? text.slice(0, 300)}`);
  }
  return reply.result as T;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function parseMaybeJson(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  try {
    return JSON.parse(value) as unknown;
  } catch {
    return value;
  }
}

function inlineButtons(replyMarkup: unknown): InlineButton[] {
  if (!isRecord(replyMarkup) || !Array.isArray(replyMarkup.inline_keyboard)) return [];
  const buttons: InlineButton[] = [];
  for (const row of replyMarkup.inline_keyboard as unknown[]) {
    if (!Array.isArray(row)) continue;
    for (const cell of row as unknown[]) {
      if (!isRecord(cell)) continue;
      const button: InlineButton = { text: String(cell.text ?? '') };
      if (typeof cell.callback_data === 'string') button.callbackData = cell.callback_data;
      if (typeof cell.url === 'string') button.url = cell.url;
      buttons.push(button);
    }
  }
  return buttons;
}

/** Maps one entry of the emulator's /getUpdatesHistory to a BotMessage, or undefined for user updates. */
function toBotMessage(entry: unknown): BotMessage | undefined {
  if (!isRecord(entry) || !isRecord(entry.message) || entry.message.chat_id === undefined) return undefined;
  const raw = entry.message;
  const replyMarkup = parseMaybeJson(raw.reply_markup);
  const message: BotMessage = {
    messageId: Number(entry.messageId),
    chatId: Number(raw.chat_id),
    text: typeof raw.text === 'string' ? raw.text : '',
    buttons: inlineButtons(replyMarkup),
    raw,
  };
  if (typeof raw.parse_mode === 'string') message.parseMode = raw.parse_mode;
  if (replyMarkup !== undefined) message.replyMarkup = replyMarkup;
  return message;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * A user client for the emulator at `url` (the `url`/`apiRoot` of {@link startTelegramEmulator} or the CLI)
 * talking to the bot with `token`.
 */
export function telegramUserClient(url: string, token: string, user: TelegramUserOptions = {}): TelegramUserClient {
  const base = url.replace(/\/+$/, '');
  const userId = user.userId ?? 1001;
  const chatId = user.chatId ?? userId;
  const firstName = user.firstName ?? 'Test';
  const username = user.username ?? 'test_user';
  const from: Record<string, unknown> = { id: userId, is_bot: false, first_name: firstName, username };
  if (user.lastName !== undefined) from.last_name = user.lastName;
  if (user.languageCode !== undefined) from.language_code = user.languageCode;
  const chat: Record<string, unknown> = { id: chatId, type: 'private', first_name: firstName, username };
  if (user.lastName !== undefined) chat.last_name = user.lastName;
  let lastSeenMessageId = 0;

  const now = (): number => Math.floor(Date.now() / 1000);
  const sent = (result: { update_id: number; message_id?: number; callback_query_id?: string }): SentUpdate => {
    const update: SentUpdate = { updateId: result.update_id };
    if (result.message_id !== undefined) update.messageId = result.message_id;
    if (result.callback_query_id !== undefined) update.callbackQueryId = result.callback_query_id;
    return update;
  };

  const botMessages = async (): Promise<BotMessage[]> => {
    const history = await post<unknown[]>(`${base}/getUpdatesHistory`, { token });
    return history
      .map(toBotMessage)
      .filter((m): m is BotMessage => m !== undefined && m.chatId === chatId)
      .sort((a, b) => a.messageId - b.messageId);
  };

  const apiCalls = async (method?: string): Promise<BotApiCall[]> => {
    const calls = await post<BotApiCall[]>(`${base}/_emulator/apiCalls`, { token });
    return method === undefined ? calls : calls.filter((c) => c.method === method);
  };

  return {
    token,
    chatId,
    userId,
    async sendText(text) {
      return sent(await post(`${base}/sendMessage`, { botToken: token, date: now(), from, chat, text }));
    },
    async sendCommand(command) {
      if (!command.startsWith('/')) throw new Error(`a command starts with '/': ${JSON.stringify(command)}`);
      const length = command.includes(' ') ? command.indexOf(' ') : command.length;
      const entities = [{ offset: 0, length, type: 'bot_command' }];
      return sent(await post(`${base}/sendCommand`, { botToken: token, date: now(), from, chat, text: command, entities }));
    },
    async pressButton(callbackData, options = {}) {
      const messages = await botMessages();
      const target =
        options.messageId !== undefined
          ? messages.find((m) => m.messageId === options.messageId)
          : messages.filter((m) => m.buttons.some((b) => b.callbackData === callbackData)).at(-1);
      if (!target) {
        const offered = messages.flatMap((m) => m.buttons.map((b) => `${m.messageId}:${b.callbackData ?? b.url ?? b.text}`));
        throw new Error(
          options.messageId !== undefined
            ? `no bot message ${options.messageId} in chat ${chatId}`
            : `no bot message in chat ${chatId} has a button with callback data ${JSON.stringify(callbackData)} (buttons: ${offered.join(', ') || 'none'})`,
        );
      }
      const message: Record<string, unknown> = { message_id: target.messageId, date: now(), chat, from: EMULATED_BOT_USER, text: target.text };
      if (target.replyMarkup !== undefined) message.reply_markup = target.replyMarkup;
      return sent(await post(`${base}/sendCallback`, { botToken: token, date: now(), from, message, data: callbackData }));
    },
    botMessages,
    async waitForBotMessages(count = 1, timeoutMs = 5_000) {
      const deadline = Date.now() + timeoutMs;
      let fresh: BotMessage[];
      for (;;) {
        fresh = (await botMessages()).filter((m) => m.messageId > lastSeenMessageId);
        if (fresh.length >= count) break;
        if (Date.now() >= deadline) {
          const failed = (await apiCalls().catch(() => [])).filter((c) => c.status >= 300).slice(-5);
          throw new Error(
            `expected ${count} new bot message(s) in chat ${chatId} within ${timeoutMs} ms, got ${fresh.length}` +
              (fresh.length ? `: ${fresh.map((m) => JSON.stringify(m.text)).join(', ')}` : '') +
              (failed.length ? `; failed Bot API calls: ${failed.map((c) => `${c.method} -> HTTP ${c.status}`).join(', ')}` : ''),
          );
        }
        await sleep(25);
      }
      const result = fresh.slice(0, count);
      lastSeenMessageId = result.at(-1)?.messageId ?? lastSeenMessageId;
      return result;
    },
    apiCalls,
  };
}
