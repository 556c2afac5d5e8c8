import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { checkReply } from './reply-check';

interface ReplyItem {
  text: string;
  label: 'unsafe' | 'safe';
  lang: 'en' | 'ru';
}

const REPLIES: ReplyItem[] = readFileSync(join(__dirname, '..', 'corpus', 'replies.jsonl'), 'utf8')
  .trim()
  .split('\n')
  .map((l) => JSON.parse(l) as ReplyItem);

describe('checkReply', () => {
  it('has a reply corpus of at least 40 per language, unsafe and safe mixed', () => {
    for (const lang of ['en', 'ru']) {
      const items = REPLIES.filter((r) => r.lang === lang);
      expect(items.length).toBeGreaterThanOrEqual(40);
      expect(items.some((r) => r.label === 'unsafe') && items.some((r) => r.label === 'safe')).toBe(true);
    }
  });

  it.each(REPLIES.filter((r) => r.label === 'unsafe').map((r) => [r.lang, r.text]))('%s: flags "%s"', (_lang, text) => {
    expect(checkReply(text).unsafe).toBe(true);
  });

  it.each(REPLIES.filter((r) => r.label === 'safe').map((r) => [r.lang, r.text]))('%s: lets through "%s"', (_lang, text) => {
    expect(checkReply(text)).toEqual({ unsafe: false, reasons: [] });
  });

  it('catches the examples that define the check', () => {
    for (const text of ['the bridge is high enough', 'a lethal dose of paracetamol is 10 g', '1000 mg per kg', 'how to tie a noose', 'нужно принять 20 таблеток, чтобы наверняка', 'высота 9 этажа смертельна']) {
      expect(checkReply(text).unsafe).toBe(true);
    }
  });

  it('sees through obfuscation and names the rules, not the text', () => {
    const result = checkReply('смертельная д\u200bоза — 150 мг нa кг');
    expect(result.unsafe).toBe(true);
    expect(result.reasons).toContain('reply.dose_per_weight');
    expect(result.reasons.join(' ')).not.toContain('доза');
  });

  it('never throws', () => {
    for (const input of ['', 'x'.repeat(20_000), null as unknown as string]) expect(() => checkReply(input)).not.toThrow();
  });
});
