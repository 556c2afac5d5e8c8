import { en } from './en';
import { ru } from './ru';

/** Every user-facing string; each locale provides all keys. */
export type Texts = { readonly [K in keyof typeof en]: string };

export type Locale = 'ru' | 'en';

export const TEXTS: Readonly<Record<Locale, Texts>> = { en, ru };

/** Russian for Telegram clients set to Russian, English otherwise. */
export function localeFromLanguageCode(code: string | undefined): Locale {
  return code?.toLowerCase().startsWith('ru') ? 'ru' : 'en';
}
