import type { TelegramUpdatePayload } from '@inner-talk/queue';
import { isSharedSender } from '@inner-talk/telegram';

type Json = Record<string, unknown>;

const isRecord = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);

/** The chat an update happened in, if it names one (`callback_query`: the chat of the pressed message). */
function chatOf(body: Json): Json | null {
  if (isRecord(body.chat)) return body.chat;
  if (isRecord(body.message) && isRecord(body.message.chat)) return body.message.chat;
  return null;
}

/** True when the update speaks for someone who is not one person: a chat or one of Telegram's shared senders. */
function hasRefusedSender(body: Json): boolean {
  return body.sender_chat !== undefined || (isRecord(body.from) && isSharedSender(body.from.id));
}

/**
 * What the inbox keeps of an update: private chats of one person as they came; anything else
 * (a group, supergroup or channel, or a sender that is a chat or one of Telegram's shared ids)
 * cut down to what the worker needs to answer it with the fixed private-chats-only note, leave the
 * chat, or answer a button's spinner: the chat's id and type, the sender's language, the message or
 * callback query id, a membership status, and the marks of a refused sender. No text, no names, no
 * person's id: the bot serves private chats only, and what was said elsewhere is not ours to keep.
 *
 * The update keeps its type and its chat, so it is routed and ordered as before. Pure.
 */
export function inboxFormOf(update: TelegramUpdatePayload): TelegramUpdatePayload {
  for (const [type, body] of Object.entries(update)) {
    if (type === 'update_id' || !isRecord(body)) continue;
    const chat = chatOf(body);
    const refused = (chat !== null && chat.type !== 'private') || hasRefusedSender(body);
    if (!refused) return update;
    return { update_id: update.update_id, [type]: reduced(body, chat) };
  }
  return update;
}

function reduced(body: Json, chat: Json | null): Json {
  const from = isRecord(body.from) ? body.from : null;
  const out: Json = {};
  if (typeof body.id === 'string') out.id = body.id; // a callback query's id: needed to stop its spinner
  if (body.message_id !== undefined) out.message_id = body.message_id;
  if (body.date !== undefined) out.date = body.date;
  const chatRef = chat && { id: chat.id, type: chat.type };
  if (isRecord(body.message) && chatRef) out.message = { message_id: body.message.message_id, date: body.message.date, chat: chatRef };
  else if (chatRef) out.chat = chatRef;
  if (from) out.from = { ...(isSharedSender(from.id) && { id: from.id }), ...(typeof from.language_code === 'string' && { language_code: from.language_code }) };
  if (isRecord(body.sender_chat)) out.sender_chat = { id: body.sender_chat.id, type: body.sender_chat.type };
  if (isRecord(body.new_chat_member)) out.new_chat_member = { status: body.new_chat_member.status };
  return out;
}
