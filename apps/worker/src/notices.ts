import { localeFromLanguageCode, TEXTS } from '@inner-talk/conversation';
import type { TelegramUpdatePayload } from '@inner-talk/queue';

/** The kind message for a person whose message could not be answered after every attempt. */
export function deadLetterNotice(update: TelegramUpdatePayload): string {
  const from = (update as { message?: { from?: { language_code?: string } } }).message?.from;
  return TEXTS[localeFromLanguageCode(from?.language_code)].couldNotAnswer;
}
