import { GrammyError, type Context, type MiddlewareFn } from 'grammy';
import { localeFromLanguageCode, TEXTS } from '@inner-talk/conversation';
import { isSharedSender } from '@inner-talk/telegram';

/** Membership statuses that mean the bot is (now) in the chat. */
const PRESENT = new Set(['member', 'administrator', 'creator', 'restricted']);

/**
 * The bot serves private chats of one person only; this middleware runs before anything else.
 *
 * In a group, supergroup or channel the bot stores nothing, says only the fixed note that it talks
 * in private chats (no personal content, in the sender's language), and leaves — for a message, an
 * edit, or being added (`my_chat_member`). A button pressed there gets its spinner answered and
 * nothing more. In a private chat, an update that speaks for a chat (`sender_chat`) or comes from
 * one of Telegram's shared sender ids is dropped without a word. Nothing of these reaches the
 * conversation core. The ingress already cut such updates down (apps/ingress/src/private-only.ts);
 * this is the same rule again, so a full update can never slip through either.
 *
 * After leaving, Telegram refuses every send to the chat (403), so later updates of that chat end
 * here quietly and the note is said at most once. A Telegram refusal (400/403) of the note or of
 * leaving means the bot is gone already and is not retried; other errors are (the delivery ledger
 * keeps the note from being repeated).
 */
export function privateChatsOnly(): MiddlewareFn<Context> {
  return async (ctx, next) => {
    const chat = ctx.chat;
    if (chat && chat.type !== 'private') {
      if (ctx.callbackQuery) return void (await ctx.answerCallbackQuery().catch(() => undefined));
      const joined = ctx.myChatMember ? PRESENT.has(ctx.myChatMember.new_chat_member.status) : true;
      if (!joined) return;
      const texts = TEXTS[localeFromLanguageCode(ctx.from?.language_code)];
      await ignoreRefusal(ctx.api.sendMessage(chat.id, texts.privateChatsOnly));
      await ignoreRefusal(ctx.api.leaveChat(chat.id));
      return;
    }
    if (ctx.senderChat || isSharedSender(ctx.from?.id)) {
      if (ctx.callbackQuery) await ctx.answerCallbackQuery().catch(() => undefined);
      return;
    }
    await next();
  };
}

async function ignoreRefusal(call: Promise<unknown>): Promise<void> {
  try {
    await call;
  } catch (error) {
    if (error instanceof GrammyError && (error.error_code === 400 || error.error_code === 403)) return;
    throw error;
  }
}
