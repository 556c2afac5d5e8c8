import type { Update, UserFromGetMe } from 'grammy/types';
import { TEXTS, type Conversation, type Incoming, type Reply } from '@inner-talk/conversation';
import { startStrictBotApi, type StrictBotApi } from '@inner-talk/mocks';
import { TELEGRAM_SHARED_SENDERS } from '@inner-talk/telegram';
import { createLogger } from '@inner-talk/telemetry';
import {
  addedToGroupUpdate,
  anonymousAdminUpdate,
  callbackQueryUpdate,
  editedMessageUpdate,
  forwardedUpdate,
  groupMessageUpdate,
  linkedChannelPostUpdate,
  photoUpdate,
  privateMessageUpdate,
  stickerUpdate,
  voiceUpdate,
} from '@inner-talk/testkit';
import { createWorkerBot } from './bot';

const TOKEN = '314159:private-only-token';
const ANN = { id: 6101, firstName: 'Ann', languageCode: 'en' };
const OLGA = { id: 6102, firstName: 'Olga', languageCode: 'ru' };
const GROUP = { id: -100_6101, type: 'supergroup' as const };
const CHANNEL = { id: -100_6102, type: 'channel' as const };

describe('worker bot: private chats only, captions and edits', () => {
  let standIn: StrictBotApi;
  let seen: Incoming[];
  let bot: ReturnType<typeof createWorkerBot>['bot'];

  beforeEach(async () => {
    standIn = await startStrictBotApi({ token: TOKEN });
    standIn.addPrivateChat(ANN.id);
    standIn.addPrivateChat(OLGA.id);
    standIn.addGroup(GROUP.id, 'supergroup');
    standIn.addGroup(CHANNEL.id, 'channel');
    seen = [];
    const conversation = {
      handle: async (incoming: Incoming): Promise<Reply[]> => {
        seen.push(incoming);
        return incoming.kind === 'edit' ? [] : [{ text: 'ok' }];
      },
    } as unknown as Conversation;
    ({ bot } = createWorkerBot({
      token: TOKEN,
      apiRoot: standIn.apiRoot,
      botInfo: { id: standIn.bot.id, is_bot: true, first_name: standIn.bot.firstName, username: standIn.bot.username } as UserFromGetMe,
      conversation,
      logger: createLogger({ app: 'test', level: 'silent' }),
      claimNotice: () => Promise.resolve(true),
    }));
  });
  afterEach(() => standIn.close());

  const handle = (update: object) => bot.handleUpdate(update as Update);
  const sent = () => standIn.callsOf('sendMessage').map((c) => [c.params.chat_id, c.params.text, c.ok]);

  it('answers a group command with the fixed note only, in the sender’s language, and leaves; the core never hears of it', async () => {
    await handle(groupMessageUpdate(1, GROUP, OLGA, '/export@inner_talk_test_bot'));
    expect(sent()).toEqual([[GROUP.id, TEXTS.ru.privateChatsOnly, true]]);
    expect(standIn.callsOf('leaveChat').map((c) => [c.params.chat_id, c.ok])).toEqual([[GROUP.id, true]]);
    expect(standIn.callsOf('sendDocument')).toEqual([]);
    // Later messages of the group meet a chat the bot has left: no second note, no failure.
    await handle(groupMessageUpdate(2, GROUP, ANN, 'hello?'));
    await handle(editedMessageUpdate(3, ANN, 2, 'I want to kill myself', GROUP));
    expect(sent().filter(([, , ok]) => ok)).toHaveLength(1);
    expect(seen).toEqual([]);
  });

  it('treats an anonymous admin and a linked channel post like any group message; a channel it was added to too', async () => {
    await handle(anonymousAdminUpdate(4, GROUP, '/export@inner_talk_test_bot'));
    await handle(linkedChannelPostUpdate(5, GROUP, CHANNEL, 'news'));
    await handle(addedToGroupUpdate(6, CHANNEL, ANN, standIn.bot));
    expect(sent()).toEqual([
      [GROUP.id, TEXTS.en.privateChatsOnly, true],
      [GROUP.id, TEXTS.en.privateChatsOnly, false],
      [CHANNEL.id, TEXTS.en.privateChatsOnly, true],
    ]);
    expect(standIn.isMember(GROUP.id) || standIn.isMember(CHANNEL.id)).toBe(false);
    expect(seen).toEqual([]);
  });

  it('answers a button pressed in a group and does nothing else', async () => {
    const press = callbackQueryUpdate(7, ANN, 'f:y:AAAAAAAAAAAA', { chatId: GROUP.id, messageId: 1, chatType: 'supergroup' });
    await standIn.deliver(press); // makes the query answerable, as Telegram would (no webhook: queued)
    await handle(press);
    expect(standIn.callsOf('answerCallbackQuery').map((c) => c.ok)).toEqual([true]);
    expect(sent()).toEqual([]);
    expect(standIn.callsOf('leaveChat')).toEqual([]);
    expect(seen).toEqual([]);
  });

  it('drops a private update from a shared sender or on behalf of a chat without a word', async () => {
    standIn.addPrivateChat(TELEGRAM_SHARED_SENDERS.channelBot);
    await handle(privateMessageUpdate(8, { id: TELEGRAM_SHARED_SENDERS.channelBot }, '/export'));
    const onBehalf = privateMessageUpdate(9, ANN, '/export');
    await handle({ ...onBehalf, message: { ...onBehalf.message, sender_chat: { id: CHANNEL.id, type: 'channel', title: 'News' } } });
    expect(standIn.calls.filter((c) => c.method !== 'getMe')).toEqual([]);
    expect(seen).toEqual([]);
  });

  it('reads a caption as the person’s text and an edit as an edit; a sticker or voice stays unsupported, a forwarded text is text', async () => {
    await handle(photoUpdate(10, ANN, 'I want to kill myself'));
    await handle(editedMessageUpdate(11, ANN, 10, 'I want to end it all'));
    await handle(stickerUpdate(12, ANN));
    await handle(voiceUpdate(13, ANN));
    await handle(forwardedUpdate(14, ANN, 'what my friend wrote'));
    expect(seen).toEqual([
      { kind: 'text', userId: `tg:${ANN.id}`, locale: 'en', turnKey: 'u10', text: 'I want to kill myself' },
      { kind: 'edit', userId: `tg:${ANN.id}`, locale: 'en', turnKey: 'u11', text: 'I want to end it all' },
      { kind: 'unsupported', userId: `tg:${ANN.id}`, locale: 'en', turnKey: 'u12' },
      { kind: 'unsupported', userId: `tg:${ANN.id}`, locale: 'en', turnKey: 'u13' },
      { kind: 'text', userId: `tg:${ANN.id}`, locale: 'en', turnKey: 'u14', text: 'what my friend wrote' },
    ]);
    // The edit got no message (the core answered nothing); every other update one.
    expect(sent()).toEqual(Array.from({ length: 4 }, () => [ANN.id, 'ok', true]));
  });
});
