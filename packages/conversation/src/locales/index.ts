import { en } from './en';
import { ru } from './ru';

/** Every user-facing string; each locale provides all keys. */
export type Texts = { readonly [K in keyof typeof en]: string };

export type Locale = 'ru' | 'en';

export const LOCALES: readonly Locale[] = ['ru', 'en'];

export const TEXTS: Readonly<Record<Locale, Texts>> = { en, ru };

/** Russian for Telegram clients set to Russian, English otherwise. */
export function localeFromLanguageCode(code: string | undefined): Locale {
  return code?.toLowerCase().startsWith('ru') ? 'ru' : 'en';
}

/** A stored locale if it is one we speak, otherwise null. */
export function asLocale(value: string | null | undefined): Locale | null {
  return value === 'ru' || value === 'en' ? value : null;
}

/** Raised when a template names a placeholder the caller did not supply: a bug, never user input. */
export class MissingPlaceholderError extends Error {
  override readonly name = 'MissingPlaceholderError';
  constructor(readonly placeholder: string) {
    super(`no value for placeholder {${placeholder}}`);
  }
}

/** The `{name}` placeholders of a template, in order of appearance. */
export function placeholdersOf(template: string): string[] {
  return [...template.matchAll(/\{([a-zA-Z]+)\}/g)].map((m) => m[1]!);
}

/**
 * Fills `{name}` placeholders of a locale template. Values are inserted verbatim (never parsed
 * again), so user-derived values cannot inject placeholders. Throws MissingPlaceholderError for a
 * placeholder without a value.
 */
export function fill(template: string, values: Readonly<Record<string, string | number>>): string {
  return template.replace(/\{([a-zA-Z]+)\}/g, (_, name: string) => {
    const value = values[name];
    if (value === undefined) throw new MissingPlaceholderError(name);
    return String(value);
  });
}

/** A date in the locale's long form, in UTC (we do not know the person's time zone), e.g. "5 May 2026". */
export function formatDate(date: Date, locale: Locale): string {
  return new Intl.DateTimeFormat(locale === 'ru' ? 'ru-RU' : 'en-GB', { day: 'numeric', month: 'long', year: 'numeric', timeZone: 'UTC' }).format(date);
}
