import type { InboxEntry } from '@inner-talk/queue';
import { turnLength, turnUpdate } from './coalesce';

const policy = { windowMs: 1000, maxMessages: 3, maxChars: 20 };
const entry = (updateId: number, receivedAt: number, message: Record<string, unknown> | null, kind = 'message'): InboxEntry => ({
  updateId,
  receivedAt,
  traceId: `t${updateId}`,
  update: { update_id: updateId, ...(message && { [kind]: message }) },
});
const text = (t: string, from = 1, extra: Record<string, unknown> = {}) => ({ text: t, from: { id: from }, chat: { id: from }, ...extra });
/** A command as Telegram sends it: marked by a bot_command entity at offset 0. */
const command = (t: string, from = 1) => text(t, from, { entities: [{ type: 'bot_command', offset: 0, length: t.split(' ')[0]!.length }] });
const photo = (caption: string, from = 1) => ({ photo: [{ file_id: 'p' }], caption, caption_entities: [{ type: 'bold', offset: 0, length: 1 }], from: { id: from }, chat: { id: from } });

describe('coalescing rapid messages into one turn', () => {
  it('merges close plain texts of one sender, up to the limits', () => {
    const entries = [entry(1, 0, text('a')), entry(2, 900, text('b')), entry(3, 1800, text('c')), entry(4, 2000, text('d'))];
    expect(turnLength(entries, policy)).toBe(3);
    expect(turnLength(entries, { ...policy, maxMessages: 10 })).toBe(4);
    expect(turnLength(entries, { ...policy, windowMs: 0 })).toBe(1);
  });

  it('stops at a gap, a command, another sender, another update kind or too much text', () => {
    expect(turnLength([entry(1, 0, text('a')), entry(2, 1500, text('b'))], policy)).toBe(1);
    expect(turnLength([entry(1, 0, text('a')), entry(2, 10, command('/help'))], policy)).toBe(1);
    expect(turnLength([entry(1, 0, text('a')), entry(2, 10, text('b', 2))], policy)).toBe(1);
    expect(turnLength([entry(1, 0, text('a')), entry(2, 10, { data: 'x', from: { id: 1 } }, 'callback_query')], policy)).toBe(1);
    expect(turnLength([entry(1, 0, text('a'.repeat(15))), entry(2, 10, text('b'.repeat(10)))], policy)).toBe(1);
    expect(turnLength([entry(1, 0, command('/start')), entry(2, 10, text('b'))], policy)).toBe(1);
    expect(turnLength([entry(1, 0, text('a')), entry(2, 10, { voice: { file_id: 'v' }, from: { id: 1 } })], policy)).toBe(1);
    expect(turnLength([], policy)).toBe(0);
  });

  it('agrees with the bot on what a command is: the bot_command entity at offset 0, not a leading slash', () => {
    expect(turnLength([entry(1, 0, text('a')), entry(2, 10, text('/ not a command'))], policy)).toBe(2);
    expect(turnLength([entry(1, 0, text('/shrug')), entry(2, 10, text('b'))], policy)).toBe(2);
    expect(turnLength([entry(1, 0, text('a')), entry(2, 10, text('a /help', 1, { entities: [{ type: 'bot_command', offset: 2, length: 5 }] }))], policy)).toBe(2);
  });

  it('merges a captioned photo like a text, into one text message', () => {
    const entries = [entry(1, 0, photo('look')), entry(2, 10, text('at this'))];
    expect(turnLength(entries, policy)).toBe(2);
    expect(turnUpdate(entries)).toEqual({ update_id: 1, message: { photo: [{ file_id: 'p' }], text: 'look\nat this', from: { id: 1 }, chat: { id: 1 } } });
    expect(turnLength([entry(1, 0, text('a')), entry(2, 10, photo('b'))], policy)).toBe(2);
  });

  it('builds one update named by the head, texts joined, formatting entities dropped', () => {
    const merged = turnUpdate([entry(5, 0, text('hi', 1, { entities: [{ type: 'bold', offset: 0, length: 2 }] })), entry(6, 10, text('there'))]);
    expect(merged).toEqual({ update_id: 5, message: { text: 'hi\nthere', from: { id: 1 }, chat: { id: 1 } } });
    const single = entry(7, 0, text('x'));
    expect(turnUpdate([single])).toBe(single.update);
  });
});
