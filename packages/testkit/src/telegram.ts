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

/** Telegram's shared sender ids: they stand for many people, never one. */
export const TELEGRAM_SHARED_SENDERS = {
  /** @GroupAnonymousBot: every anonymous admin of every group (with `sender_chat` = the group). */
  anonymousAdmin: 1087968824,
  /** "Telegram": posts of a linked channel forwarded into its discussion group. */
  linkedChannel: 777000,
  /** @Channel_Bot: messages sent on behalf of a channel. */
  channelBot: 136817688,
} as const;

/** A person as Telegram describes them in `from`. */
export interface TelegramPerson {
  id: number;
  firstName?: string;
  languageCode?: string;
}

/** A group, supergroup or channel as Telegram describes it in `chat`. */
export interface TelegramGroup {
  id: number;
  type: 'group' | 'supergroup' | 'channel';
  title?: string;
}

const fromOf = (person: TelegramPerson) => ({
  id: person.id,
  is_bot: false,
  first_name: person.firstName ?? 'Ann',
  ...(person.languageCode !== undefined && { language_code: person.languageCode }),
});
const privateChatOf = (person: TelegramPerson) => ({ id: person.id, type: 'private', first_name: person.firstName ?? 'Ann' });
const groupChatOf = (group: TelegramGroup) => ({ id: group.id, type: group.type, title: group.title ?? 'Support circle' });
const unixNow = () => Math.floor(Date.now() / 1000);

/** Text with a `bot_command` entity when it starts with `/` (as Telegram marks commands). */
function withCommandEntity(text: string) {
  const command = /^\/[A-Za-z0-9_]+(@[A-Za-z0-9_]+)?/.exec(text);
  return { text, ...(command && { entities: [{ type: 'bot_command', offset: 0, length: command[0].length }] }) };
}

/** A message in a person's private chat: text (commands get their `bot_command` entity). */
export function privateMessageUpdate(updateId: number, person: TelegramPerson, text: string, messageId = updateId) {
  return { update_id: updateId, message: { message_id: messageId, date: unixNow(), chat: privateChatOf(person), from: fromOf(person), ...withCommandEntity(text) } };
}

/** A text or command (`/export@bot`) a member sends in a group. */
export function groupMessageUpdate(updateId: number, group: TelegramGroup, person: TelegramPerson, text: string) {
  return { update_id: updateId, message: { message_id: updateId, date: unixNow(), chat: groupChatOf(group), from: fromOf(person), ...withCommandEntity(text) } };
}

/** A message of an anonymous group admin: from @GroupAnonymousBot, with `sender_chat` = the group. */
export function anonymousAdminUpdate(updateId: number, group: TelegramGroup, text: string, languageCode = 'en') {
  return {
    update_id: updateId,
    message: {
      message_id: updateId,
      date: unixNow(),
      chat: groupChatOf(group),
      from: { id: TELEGRAM_SHARED_SENDERS.anonymousAdmin, is_bot: true, first_name: 'Group', username: 'GroupAnonymousBot', language_code: languageCode },
      sender_chat: groupChatOf(group),
      ...withCommandEntity(text),
    },
  };
}

/** A post of a linked channel as it arrives in the discussion group: from 777000, forwarded automatically. */
export function linkedChannelPostUpdate(updateId: number, group: TelegramGroup, channel: TelegramGroup, text: string) {
  return {
    update_id: updateId,
    message: {
      message_id: updateId,
      date: unixNow(),
      chat: groupChatOf(group),
      from: { id: TELEGRAM_SHARED_SENDERS.linkedChannel, is_bot: false, first_name: 'Telegram' },
      sender_chat: groupChatOf(channel),
      is_automatic_forward: true,
      text,
    },
  };
}

/** A photo in a private chat, with a caption unless `caption` is undefined. */
export function photoUpdate(updateId: number, person: TelegramPerson, caption?: string) {
  const photo = [{ file_id: `photo${updateId}`, file_unique_id: `uphoto${updateId}`, width: 90, height: 90, file_size: 1200 }];
  return { update_id: updateId, message: { message_id: updateId, date: unixNow(), chat: privateChatOf(person), from: fromOf(person), photo, ...(caption !== undefined && { caption }) } };
}

/** A voice message in a private chat. */
export function voiceUpdate(updateId: number, person: TelegramPerson) {
  const voice = { file_id: `voice${updateId}`, file_unique_id: `uvoice${updateId}`, duration: 3, mime_type: 'audio/ogg' };
  return { update_id: updateId, message: { message_id: updateId, date: unixNow(), chat: privateChatOf(person), from: fromOf(person), voice } };
}

/** A sticker in a private chat. */
export function stickerUpdate(updateId: number, person: TelegramPerson) {
  const sticker = { file_id: `sticker${updateId}`, file_unique_id: `usticker${updateId}`, type: 'regular', width: 512, height: 512, is_animated: false, is_video: false, emoji: '🙂' };
  return { update_id: updateId, message: { message_id: updateId, date: unixNow(), chat: privateChatOf(person), from: fromOf(person), sticker } };
}

/** A text the person forwards into the private chat from someone else. */
export function forwardedUpdate(updateId: number, person: TelegramPerson, text: string, originName = 'Bob') {
  return {
    update_id: updateId,
    message: { message_id: updateId, date: unixNow(), chat: privateChatOf(person), from: fromOf(person), forward_origin: { type: 'hidden_user', sender_user_name: originName, date: unixNow() - 60 }, text },
  };
}

/** The person edited their earlier message `messageId` (in a private chat unless `group` is given) into `text`. */
export function editedMessageUpdate(updateId: number, person: TelegramPerson, messageId: number, text: string, group?: TelegramGroup) {
  return {
    update_id: updateId,
    edited_message: { message_id: messageId, date: unixNow() - 30, edit_date: unixNow(), chat: group ? groupChatOf(group) : privateChatOf(person), from: fromOf(person), text },
  };
}

/** The bot was added to a group by `by` (`my_chat_member`: left → member). */
export function addedToGroupUpdate(updateId: number, group: TelegramGroup, by: TelegramPerson, bot: { id: number; username: string; firstName?: string }) {
  const botUser = { id: bot.id, is_bot: true, first_name: bot.firstName ?? 'Inner Talk', username: bot.username };
  return {
    update_id: updateId,
    my_chat_member: {
      chat: groupChatOf(group),
      from: fromOf(by),
      date: unixNow(),
      old_chat_member: { status: 'left', user: botUser },
      new_chat_member: { status: 'member', user: botUser },
    },
  };
}

/**
 * `person` pressed a button carrying `data` under message `message` (the bot's message, in the chat
 * it was sent to). Any data can be given, so forged and copied presses are built the same way.
 */
export function callbackQueryUpdate(
  updateId: number,
  person: TelegramPerson,
  data: string,
  message: { chatId: number; messageId: number; chatType?: 'private' | TelegramGroup['type'] },
  queryId = `q${updateId}`,
) {
  const chatType = message.chatType ?? 'private';
  const chat = chatType === 'private' ? { id: message.chatId, type: 'private', first_name: 'Ann' } : { id: message.chatId, type: chatType, title: 'Support circle' };
  return {
    update_id: updateId,
    callback_query: {
      id: queryId,
      from: fromOf(person),
      chat_instance: `ci${message.chatId}`,
      data,
      message: { message_id: message.messageId, date: unixNow(), chat, from: { id: 700_000_001, is_bot: true, first_name: 'Inner Talk' }, text: '…' },
    },
  };
}
