import type { UserFromGetMe } from 'grammy/types';
import { TurnDeferredError, type Conversation, type Incoming, type Reply } from '@inner-talk/conversation';
import { startTelegramEmulator, type TelegramEmulator } from '@inner-talk/mocks';
import { createLogger } from '@inner-talk/telemetry';
import { createWorkerBot } from './bot';

const TOKEN = '424242:bot-adapter-token';
const CHAT = 7001;

/** A conversation that records what the adapter made of each update and answers with scripted replies. */
function scriptedConversation(replies: (incoming: Incoming) => Reply[]) {
  const seen: Incoming[] = [];
  const conversation = {
    handle: async (incoming: Incoming) => {
      seen.push(incoming);
      return replies(incoming);
    },
  } as unknown as Conversation;
  return { conversation, seen };
}

const from = { id: CHAT, is_bot: false, first_name: 'Ann', language_code: 'ru' };
const chat = { id: CHAT, type: 'private', first_name: 'Ann' };
const date = () => Math.floor(Date.now() / 1000);

function textUpdate(updateId: number, text: string, command = false) {
  const entities = command ? [{ type: 'bot_command', offset: 0, length: text.split(' ')[0]!.length }] : undefined;
  return { update_id: updateId, message: { message_id: updateId, date: date(), chat, from, text, ...(entities && { entities }) } };
}

function callbackUpdate(updateId: number, data: string | undefined, messageId = 55) {
  return {
    update_id: updateId,
    callback_query: {
      id: `cb${updateId}`,
      from,
      chat_instance: '1',
      ...(data !== undefined && { data }),
      message: { message_id: messageId, date: date(), chat, from: { id: 1, is_bot: true, first_name: 'Bot' }, text: 'question' },
    },
  };
}

describe('worker bot: Telegram adapter', () => {
  let emulator: TelegramEmulator;

  beforeAll(async () => {
    emulator = await startTelegramEmulator();
  });
  afterAll(() => emulator.close());

  function botWith(replies: (incoming: Incoming) => Reply[], claimNotice: (updateId: number, kind: 'wait' | 'unchecked') => Promise<boolean> = () => Promise.resolve(true)) {
    const { conversation, seen } = scriptedConversation(replies);
    const { bot, reports } = createWorkerBot({
      token: TOKEN,
      apiRoot: emulator.apiRoot,
      botInfo: { id: 1, is_bot: true, first_name: 'Bot', username: 'inner_talk_bot' } as UserFromGetMe,
      conversation,
      logger: createLogger({ app: 'test', level: 'silent' }),
      claimNotice,
    });
    return { bot, seen, reports };
  }

  const callsSince = (start: number, method: string) => emulator.apiCalls(TOKEN).slice(start).filter((c) => c.method === method);

  it('maps commands, texts and other messages to the core\'s terms, with the person and the update as turn key', async () => {
    const { bot, seen } = botWith(() => [{ text: 'ok' }]);
    await bot.handleUpdate(textUpdate(1, '/start', true) as never);
    await bot.handleUpdate(textUpdate(2, '/Test@inner_talk_bot now', true) as never);
    await bot.handleUpdate(textUpdate(3, 'hello /start') as never);
    await bot.handleUpdate({ update_id: 4, message: { message_id: 4, date: date(), chat, from, sticker: { file_id: 'x' } } } as never);
    expect(seen).toEqual([
      { kind: 'command', userId: `tg:${CHAT}`, locale: 'ru', turnKey: 'u1', name: 'start', args: '' },
      { kind: 'command', userId: `tg:${CHAT}`, locale: 'ru', turnKey: 'u2', name: 'test', args: 'now' },
      { kind: 'text', userId: `tg:${CHAT}`, locale: 'ru', turnKey: 'u3', text: 'hello /start' },
      { kind: 'unsupported', userId: `tg:${CHAT}`, locale: 'ru', turnKey: 'u4' },
    ]);
  });

  it('sends buttons as an inline keyboard under the last part of a long reply', async () => {
    const start = emulator.apiCalls(TOKEN).length;
    const { bot } = botWith(() => [{ text: 'a'.repeat(5000), buttons: [[{ label: 'Yes', action: 'o:18y' }], [{ label: 'No', action: 'o:18n' }]] }, { text: 'second' }]);
    await bot.handleUpdate(textUpdate(10, 'hi') as never);
    const sent = callsSince(start, 'sendMessage').map((c) => c.payload);
    expect(sent.map((p) => String(p.text).length)).toEqual([4096, 904, 6]);
    expect(sent[0]?.reply_markup).toBeUndefined();
    expect(sent[1]?.reply_markup).toEqual({ inline_keyboard: [[{ text: 'Yes', callback_data: 'o:18y' }], [{ text: 'No', callback_data: 'o:18n' }]] });
    expect(sent[2]?.reply_markup).toBeUndefined();
  });

  it('answers every callback query, passes its data as a choice and takes the buttons off the pressed message', async () => {
    const start = emulator.apiCalls(TOKEN).length;
    const { bot, seen } = botWith(() => [{ text: 'next question' }]);
    await bot.handleUpdate(callbackUpdate(20, 'a:run:0:2') as never);
    expect(seen).toEqual([{ kind: 'choice', userId: `tg:${CHAT}`, locale: 'ru', turnKey: 'u20', action: 'a:run:0:2' }]);
    expect(callsSince(start, 'answerCallbackQuery').map((c) => c.payload.callback_query_id)).toEqual(['cb20']);
    expect(callsSince(start, 'editMessageReplyMarkup').map((c) => [c.payload.message_id, c.payload.reply_markup])).toEqual([[55, { inline_keyboard: [] }]]);
    expect(callsSince(start, 'sendMessage').map((c) => c.payload.text)).toEqual(['next question']);
  });

  it('answers a callback query without data, and survives a failing edit of an unknown message', async () => {
    const start = emulator.apiCalls(TOKEN).length;
    const { bot, seen } = botWith(() => [{ text: 'stale' }]);
    await bot.handleUpdate(callbackUpdate(30, undefined) as never);
    await bot.handleUpdate(callbackUpdate(31, 'garbage', 999_999) as never);
    expect(callsSince(start, 'answerCallbackQuery').map((c) => c.payload.callback_query_id)).toEqual(['cb30', 'cb31']);
    expect(seen.map((s) => s.kind === 'choice' && s.action)).toEqual(['garbage']);
    expect(callsSince(start, 'sendMessage').map((c) => c.payload.text)).toEqual(['stale']);
  });

  it('sends a deferred turn\'s contacts as a notice once per update, and its crisis reply as a reply every run', async () => {
    const start = emulator.apiCalls(TOKEN).length;
    const claimed = new Set<string>();
    const claim = (updateId: number, kind: string) => Promise.resolve(!claimed.has(`${kind}${updateId}`) && Boolean(claimed.add(`${kind}${updateId}`)));
    let reason: 'safety_unchecked' | 'storage_unavailable' = 'safety_unchecked';
    const { bot, reports } = botWith(() => {
      throw new TurnDeferredError(reason, [{ text: reason }], null);
    }, claim);
    reports.set(40, { repliesSent: 0, waitNoticeSent: false });
    for (const updateId of [40, 40]) {
      const error: unknown = await bot.handleUpdate(textUpdate(updateId, 'hi') as never).catch((e: unknown) => e);
      expect((error as { error?: unknown }).error).toBeInstanceOf(TurnDeferredError);
    }
    expect(reports.get(40)).toEqual({ repliesSent: 0, waitNoticeSent: true });
    reason = 'storage_unavailable';
    reports.set(41, { repliesSent: 0, waitNoticeSent: false });
    await bot.handleUpdate(textUpdate(41, 'hi') as never).catch(() => undefined);
    expect(reports.get(41)).toEqual({ repliesSent: 1, waitNoticeSent: false });
    expect(callsSince(start, 'sendMessage').map((c) => c.payload.text)).toEqual(['safety_unchecked', 'storage_unavailable']);
  });
});
