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

describe('coalescing rapid messages into one turn', () => {
  it('merges close plain texts of one sender, up to the limits', () => {
    const entries = [entry(1, 0, text('a')), entry(2, 900, text('b')), entry(3, 1800, text('c')), entry(4, 2000, text('d'))];
    expect(turnLength(entries, policy)).toBe(3);
    expect(turnLength(entries, { ...policy, maxMessages: 10 })).toBe(4);
    expect(turnLength(entries, { ...policy, windowMs: 0 })).toBe(1);
  });

  it('stops at a gap, a command, another sender, another update kind or too much text', () => {
    expect(turnLength([entry(1, 0, text('a')), entry(2, 1500, text('b'))], policy)).toBe(1);
    expect(turnLength([entry(1, 0, text('a')), entry(2, 10, text('/help'))], policy)).toBe(1);
    expect(turnLength([entry(1, 0, text('a')), entry(2, 10, text('b', 2))], policy)).toBe(1);
    expect(turnLength([entry(1, 0, text('a')), entry(2, 10, { data: 'x', from: { id: 1 } }, 'callback_query')], policy)).toBe(1);
    expect(turnLength([entry(1, 0, text('a'.repeat(15))), entry(2, 10, text('b'.repeat(10)))], policy)).toBe(1);
    expect(turnLength([entry(1, 0, text('/start')), entry(2, 10, text('b'))], policy)).toBe(1);
    expect(turnLength([], policy)).toBe(0);
  });

  it('builds one update named by the head, texts joined, formatting entities dropped', () => {
    const merged = turnUpdate([entry(5, 0, text('hi', 1, { entities: [{ type: 'bold', offset: 0, length: 2 }] })), entry(6, 10, text('there'))]);
    expect(merged).toEqual({ update_id: 5, message: { text: 'hi\nthere', from: { id: 1 }, chat: { id: 1 } } });
    const single = entry(7, 0, text('x'));
    expect(turnUpdate([single])).toBe(single.update);
  });
});
