import { chatKeyOf } from '@inner-talk/queue';
import { TELEGRAM_SHARED_SENDERS } from '@inner-talk/telegram';
import {
  addedToGroupUpdate,
  anonymousAdminUpdate,
  callbackQueryUpdate,
  editedMessageUpdate,
  groupMessageUpdate,
  linkedChannelPostUpdate,
  photoUpdate,
  privateMessageUpdate,
} from '@inner-talk/testkit';
import { inboxFormOf } from './private-only';

const ANN = { id: 4101, firstName: 'Ann', languageCode: 'ru' };
const GROUP = { id: -100_4101, type: 'supergroup' as const, title: 'Support circle' };
const CHANNEL = { id: -100_4102, type: 'channel' as const, title: 'News' };
const SECRET_WORDS = 'I want to kill myself';

describe('what the inbox keeps of an update', () => {
  it('keeps a private chat of one person as it came', () => {
    for (const update of [privateMessageUpdate(1, ANN, SECRET_WORDS), photoUpdate(2, ANN, SECRET_WORDS), editedMessageUpdate(3, ANN, 1, SECRET_WORDS), callbackQueryUpdate(4, ANN, 'f:y:abc', { chatId: ANN.id, messageId: 9 })]) {
      expect(inboxFormOf(update)).toBe(update);
    }
  });

  it('cuts a group message down to chat id and type, message id and language: no text, no names, no person id', () => {
    const update = groupMessageUpdate(5, GROUP, ANN, `/export@inner_talk_bot ${SECRET_WORDS}`);
    const stored = inboxFormOf(update);
    expect(stored).toEqual({ update_id: 5, message: { message_id: 5, date: update.message.date, chat: { id: GROUP.id, type: 'supergroup' }, from: { language_code: 'ru' } } });
    expect(chatKeyOf(stored)).toBe(chatKeyOf(update));
  });

  it('keeps only the marks of a refused sender: the anonymous admin, a linked channel post', () => {
    const anonymous = inboxFormOf(anonymousAdminUpdate(6, GROUP, '/export@inner_talk_bot'));
    expect(anonymous).toMatchObject({ message: { from: { id: TELEGRAM_SHARED_SENDERS.anonymousAdmin }, sender_chat: { id: GROUP.id, type: 'supergroup' } } });
    expect(JSON.stringify(anonymous)).not.toMatch(/export|Support|GroupAnonymousBot/);
    const post = inboxFormOf(linkedChannelPostUpdate(7, GROUP, CHANNEL, SECRET_WORDS));
    expect(post).toMatchObject({ message: { chat: { id: GROUP.id }, from: { id: TELEGRAM_SHARED_SENDERS.linkedChannel }, sender_chat: { id: CHANNEL.id, type: 'channel' } } });
    expect(JSON.stringify(post)).not.toContain('kill');
  });

  it('refuses a shared sender even in a chat that claims to be private', () => {
    const update = privateMessageUpdate(8, { id: TELEGRAM_SHARED_SENDERS.channelBot }, SECRET_WORDS);
    expect(JSON.stringify(inboxFormOf(update))).not.toContain('kill');
  });

  it('keeps what answering a group button and leaving needs, nothing else', () => {
    const press = callbackQueryUpdate(9, ANN, 'f:y:abc', { chatId: GROUP.id, messageId: 3, chatType: 'supergroup' }, 'q9');
    const stored = inboxFormOf(press);
    expect(stored).toEqual({ update_id: 9, callback_query: { id: 'q9', message: { message_id: 3, date: press.callback_query.message.date, chat: { id: GROUP.id, type: 'supergroup' } }, from: { language_code: 'ru' } } });
    expect(chatKeyOf(stored)).toBe(chatKeyOf(press));
    const added = addedToGroupUpdate(10, GROUP, ANN, { id: 700_000_001, username: 'inner_talk_bot' });
    expect(inboxFormOf(added)).toEqual({ update_id: 10, my_chat_member: { date: added.my_chat_member.date, chat: { id: GROUP.id, type: 'supergroup' }, from: { language_code: 'ru' }, new_chat_member: { status: 'member' } } });
    const edit = inboxFormOf(editedMessageUpdate(11, ANN, 4, SECRET_WORDS, GROUP));
    expect(JSON.stringify(edit)).not.toMatch(/kill|Ann|:4101/);
  });
});
