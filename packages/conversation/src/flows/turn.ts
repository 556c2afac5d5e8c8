import { HOTLINES, HOTLINES_ELSEWHERE } from '@inner-talk/safety';
import type { Locale, Texts } from '../locales';
import type { ConsentState, ConversationOptions, Incoming, Reply } from '../types';

/** One event being handled, with what every flow needs to answer it. */
export interface Turn<K extends Incoming['kind'] = Incoming['kind']> {
  incoming: Extract<Incoming, { kind: K }>;
  userId: string;
  turnKey: string;
  /** The language to answer in: the person's choice, else the channel's guess. */
  locale: Locale;
  texts: Texts;
  /** When the turn began; every write of the turn uses it unless it needs a later time. */
  now: Date;
  /** The conversation's clock, for a time after a slow step (the model call). */
  clock: () => Date;
  /** The person's consent state as read at the start of the turn (null: never chose a language). */
  consent: ConsentState | null;
  deps: ConversationOptions;
}

/** What a flow needs of a turn when the kind of event does not matter (sessions, context, data rights). */
export type TurnContext = Omit<Turn, 'incoming'>;

/** The crisis contacts of a locale, one per line, each saying where and for whom; the last says what to do elsewhere. */
export function hotlineList(locale: Locale): string {
  return [...HOTLINES[locale].map((h) => `• ${h.label}: ${h.number}`), `• ${HOTLINES_ELSEWHERE[locale]}`].join('\n');
}

/** A safety message: the intro, the locale's hotlines and the closing line (by default the one that keeps the door open). */
export function crisisReply(intro: string, locale: Locale, texts: Texts, outro: string = texts.crisisOutro): Reply {
  return { text: `${intro}\n\n${hotlineList(locale)}\n\n${outro}` };
}

/** The /sos answer: always available, before consent too, without the model or any storage. */
export function sosReply(locale: Locale, texts: Texts): Reply {
  return crisisReply(texts.sos, locale, texts);
}
