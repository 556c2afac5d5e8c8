import { splitMessage } from './index';

describe('splitMessage', () => {
  it('keeps short text whole', () => {
    expect(splitMessage('hello')).toEqual(['hello']);
  });

  it('splits at paragraph boundaries under the limit', () => {
    const para = 'a'.repeat(3000);
    const parts = splitMessage(`${para}\n\n${para}\n\n${para}`);
    expect(parts).toEqual([para, para, para]);
  });

  it('hard-splits a text without spaces and never exceeds the limit', () => {
    const parts = splitMessage('x'.repeat(10000));
    expect(parts.map((p) => p.length)).toEqual([4096, 4096, 1808]);
  });

  it('does not cut a surrogate pair', () => {
    const text = 'a'.repeat(4095) + '😀' + 'b';
    const parts = splitMessage(text);
    expect(parts[0]).toBe('a'.repeat(4095));
    expect(parts[1]).toBe('😀b');
  });

  it('loses no words', () => {
    const words = Array.from({ length: 3000 }, (_, i) => `word${i}`);
    const parts = splitMessage(words.join(' '));
    expect(parts.every((p) => p.length <= 4096)).toBe(true);
    expect(parts.join(' ').split(' ')).toEqual(words);
  });
});
