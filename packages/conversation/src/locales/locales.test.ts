import { fill, formatDate, MissingPlaceholderError, placeholdersOf, TEXTS } from './index';

describe('locale files', () => {
  it('give every key in every locale, with the same placeholders', () => {
    const keys = Object.keys(TEXTS.en).sort();
    expect(Object.keys(TEXTS.ru).sort()).toEqual(keys);
    for (const key of keys as (keyof typeof TEXTS.en)[]) {
      expect({ key, placeholders: placeholdersOf(TEXTS.ru[key]).sort() }).toEqual({ key, placeholders: placeholdersOf(TEXTS.en[key]).sort() });
      expect(TEXTS.ru[key].trim()).not.toBe('');
    }
  });

  it('fills placeholders verbatim and refuses a missing one', () => {
    expect(fill('{a} and {b}', { a: '{b}', b: 2 })).toBe('{b} and 2');
    expect(() => fill('{a} {missing}', { a: 1 })).toThrow(MissingPlaceholderError);
  });

  it('formats dates in the locale, in UTC', () => {
    const date = new Date(Date.UTC(2026, 4, 19, 23, 30));
    expect(formatDate(date, 'en')).toBe('19 May 2026');
    expect(formatDate(date, 'ru')).toBe('19 мая 2026 г.');
  });
});
