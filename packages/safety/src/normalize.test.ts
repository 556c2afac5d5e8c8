import { normalizeText } from './normalize';

const text = (raw: string) => normalizeText(raw).text;

describe('normalizeText', () => {
  it('keeps the raw text', () => expect(normalizeText('Хочу  УМЕРЕТЬ').raw).toBe('Хочу  УМЕРЕТЬ'));

  it('applies NFKC, lower case and ё → е', () => {
    expect(text('ＫＩＬＬ Myself')).toBe('kill myself');
    expect(text('Всё ЕЩЁ')).toBe('все еще');
  });

  it('removes format characters (Cf): zero-width, word joiner, BOM, soft hyphen', () => {
    expect(text('ki\u200bll my\u200c\u200dself')).toBe('kill myself');
    expect(text('у\u2060ме\ufeffреть')).toBe('умереть');
    expect(text('вып\u00adилиться')).toBe('выпилиться');
    expect(text('die\u200e\u200f')).toBe('die');
  });

  it('folds homoglyphs toward the script of the word', () => {
    expect(text('xочу yмереть')).toBe('хочу умереть'); // Latin x, y in Russian words
    expect(text('покончить с сoбoй')).toBe('покончить с собой'); // Latin o
    expect(text('i wаnt to diе')).toBe('i want to die'); // Cyrillic а, е in English words
    expect(text('kіll ѕelf')).toBe('kill self'); // Cyrillic і, ѕ
    expect(text('самоyбийство')).toBe('самоубийство');
  });

  it('reads leetspeak inside words but leaves numbers alone', () => {
    expect(text('k1ll mys3lf')).toBe('kill myself');
    expect(text('i w4nt t0 d13')).toBe('i want to die');
    expect(text('у6ить себя')).toBe('убить себя');
    expect(text('20mg at 9pm, 3 times')).toBe('20mg at 9pm, 3 times');
  });

  it('reads a capital I or pipe inside a lower-case word as l, and small capitals as letters', () => {
    expect(text('kiII myself')).toBe('kill myself');
    expect(text('ᴋɪʟʟ ᴍʏsᴇʟғ')).toBe('kill myself');
  });

  it('joins letters spaced apart; a wider gap separates words', () => {
    expect(text('s u i c i d e')).toBe('suicide');
    expect(text('у б и т ь  с е б я')).toBe('убить себя');
    expect(text('want to k i l l   m y s e l f')).toBe('want to kill myself');
    expect(normalizeText('i w a n t t o d i e').spacedRuns).toEqual(['iwanttodie']);
  });

  it('joins letters strung with separators and reads an underscore as a space', () => {
    expect(text('i w-a-n-t t-o d-i-e')).toBe('i want to die');
    expect(text('у.б.и.т.ь с.е.б.я')).toBe('убить себя');
    expect(text('kill_myself')).toBe('kill myself');
    expect(text('кто-то звонил в 5-4-3')).toBe('кто-то звонил в 5-4-3');
  });

  it('glues fragments split by stray spaces when they spell a key word, in an extra form', () => {
    expect(normalizeText('хоч у ум ереть').forms).toContain('хочу умереть');
    expect(normalizeText('ki ll my self').forms).toContain('kill myself');
    expect(normalizeText('a cut above').forms).toEqual(['a cut above']);
  });

  it('keeps the unjoined form too, so a joined run of short words cannot hide a phrase', () => {
    expect(normalizeText('а я с собой покончу').forms).toContain('а я с собой покончу');
  });

  it('squeezes 3+ repeated letters, keeping a doubled form as well', () => {
    expect(text('dieeeee')).toBe('die');
    expect(text('умерееееть')).toBe('умереть');
    expect(normalizeText('killll myself').forms).toContain('kill myself');
  });

  it('corrects common misspellings of the words the rules rely on, never real words', () => {
    expect(text('i wanna kil myslef')).toBe('i wanna kill myself');
    expect(text('нехочу жыть')).toBe('не хочу жить');
    expect(text('хачу убить сибя')).toBe('хочу убить себя');
    expect(text('every1 wud be better off w/o me')).toBe('everyone would be better off without me');
    expect(text('лучше б меня не было')).toBe('лучше бы меня не было');
    expect(text('want 2 die')).toBe('want to die');
    expect(text('life isnt worth it, how 2 kill urself')).toBe("life isn't worth it, how to kill yourself");
    expect(text('ending it tn')).toBe('ending it tonight');
    expect(text('20 mg twice a day')).toBe('20 mg twice a day');
  });

  it('drops emoji and stars stuck inside a word', () => {
    expect(text('хочу у😭мереть')).toBe('хочу умереть');
    expect(text('у*бить себя')).toBe('убить себя');
    expect(text('устала 😭 хочу спать')).toBe('устала 😭 хочу спать');
  });

  it('reads the key words of Russian typed in Latin letters as Russian', () => {
    expect(text('ya hochu umeret')).toBe('ya хочу умереть');
    expect(text('ne hochu zhit')).toBe('не хочу жить');
  });

  it('adds the contracted form of formal negations and "I am", keeping the original', () => {
    expect(normalizeText('I do not want to be alive. I am done').forms).toEqual(['i do not want to be alive. i am done', "i don't want to be alive. i'm done"]);
  });

  it('unifies apostrophes and collapses whitespace, including between merged messages', () => {
    expect(text('I don’t  want\nto\tlive')).toBe("i don't want to live");
  });

  it('is pure and total', () => {
    expect(normalizeText('')).toEqual({ raw: '', text: '', forms: [''], spacedRuns: [] });
    expect(() => normalizeText(undefined as unknown as string)).not.toThrow();
  });
});
