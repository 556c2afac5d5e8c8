import { classifyByPhrases } from '@inner-talk/safety';
import { encodeAction, parseAction, type Action } from '../actions';
import { asLocale, fill, TEXTS, type Locale, type Texts } from '../locales';
import type { Button, ConsentState, ConsentStep, Reply } from '../types';
import { crisisReply, hotlineList, sosReply, type Turn } from './turn';

/**
 * Onboarding: language → AI disclosure and 18+ → consent to process health-related data.
 *
 * Before consent nothing but the consent state is written (step, language, flags with timestamps):
 * no message text, no profile, no risk event. Texts sent before consent are never stored and never
 * reach the model; the offline phrase list still reads them, because answering "please finish
 * onboarding" to someone who writes about ending their life would be wrong (and /sos always works).
 */

/** The two language buttons. */
export function languageButtons(texts: Texts): Button[][] {
  return [
    [
      { label: texts.languageNameRu, action: encodeAction({ kind: 'language', locale: 'ru' }) },
      { label: texts.languageNameEn, action: encodeAction({ kind: 'language', locale: 'en' }) },
    ],
  ];
}

/** The consent question, naming who receives the person's messages (`processors`, from the configuration). */
function consentQuestion(texts: Texts, processors: readonly string[]): string {
  return fill(texts.askConsent, { processors: processors.length > 0 ? processors.join(texts.processorsJoin) : texts.processorsUnknown });
}

/**
 * What a person at `step` sees: the question of that step with its buttons, or the step's outcome.
 * `processors` are the services that will receive their messages (named in the consent question).
 */
export function stepPrompt(step: ConsentStep, locale: Locale, processors: readonly string[] = []): Reply[] {
  const texts = TEXTS[locale];
  switch (step) {
    case 'language':
      return [{ text: texts.chooseLanguage, buttons: languageButtons(texts) }];
    case 'adult':
      return [
        {
          text: `${texts.disclosure}\n\n${texts.askAdult}`,
          buttons: [
            [{ label: texts.adultYes, action: encodeAction({ kind: 'adult', confirmed: true }) }],
            [{ label: texts.adultNo, action: encodeAction({ kind: 'adult', confirmed: false }) }],
          ],
        },
      ];
    case 'consent':
      return [
        {
          text: consentQuestion(texts, processors),
          buttons: [
            [{ label: texts.consentYes, action: encodeAction({ kind: 'consent', given: true }) }],
            [{ label: texts.consentNo, action: encodeAction({ kind: 'consent', given: false }) }],
          ],
        },
      ];
    case 'consented':
      return [{ text: texts.consentGiven }];
    case 'declined':
      return [{ text: texts.declined }];
    case 'underage':
      return [{ text: `${texts.underage}\n\n${hotlineList(locale)}` }];
  }
}

/** `stepPrompt` with the turn's configured data processors. */
function promptsOf(turn: Pick<Turn, 'deps'>): (step: ConsentStep, locale: Locale) => Reply[] {
  return (step, locale) => stepPrompt(step, locale, turn.deps.dataProcessors);
}

/** The step a person is at; someone unknown is at the language choice. */
function stepOf(consent: ConsentState | null): ConsentStep {
  return consent?.step ?? 'language';
}

/** True for the onboarding buttons themselves (language, 18+, consent). */
export function isOnboardingAction(action: Action | null): boolean {
  return action !== null && (action.kind === 'adult' || action.kind === 'consent');
}

/**
 * Everything a person who has not consented does. Writes only the consent state; see the module
 * comment. The same event handled twice (a retried job) gives the same replies.
 */
export async function beforeConsent(turn: Turn): Promise<Reply[]> {
  const { incoming, texts, locale, consent } = turn;
  const prompt = promptsOf(turn);
  const step = stepOf(consent);
  // Onboarding finished without consent: only /start (or a language button) begins it again.
  const ended = step === 'declined' || step === 'underage';
  const reminder = (): Reply[] => (ended ? prompt(step, locale) : [{ text: texts.finishOnboardingFirst }, ...prompt(step, locale)]);

  switch (incoming.kind) {
    case 'command':
      switch (incoming.name) {
        case 'sos':
          return [sosReply(locale, texts)];
        case 'start':
        case 'language':
          return prompt('language', locale);
        case 'help':
          return [{ text: texts.help }, ...(ended ? [] : prompt(step, locale))];
        default:
          return reminder();
      }
    case 'text': {
      const risk = classifyByPhrases(incoming.text);
      const first = consent === null ? prompt('language', locale) : reminder();
      if (risk.level === 'none') return first;
      return [crisisReply(risk.level === 'high' ? texts.crisisHigh : texts.crisisLow, locale, texts), ...first];
    }
    case 'unsupported':
      return consent === null ? prompt('language', locale) : reminder();
    case 'edit':
      return []; // answered by editedMessage before onboarding is looked at
    case 'choice':
      return onboardingChoice(turn as Turn<'choice'>, parseAction(incoming.action));
  }
}

/** Handles a button before consent. */
async function onboardingChoice(turn: Turn<'choice'>, action: Action | null): Promise<Reply[]> {
  const { consent, userId, turnKey, now, locale, texts } = turn;
  const { consents } = turn.deps;
  const prompt = promptsOf(turn);
  const step = stepOf(consent);
  // The same press handled again: its change is already stored, answer as the first time did.
  if (consent && consent.lastTurnKey === turnKey) return prompt(consent.step, asLocale(consent.locale) ?? locale);
  const stale = (): Reply[] => [{ text: texts.staleChoice }, ...prompt(step, locale)];

  if (action?.kind === 'language') {
    if (consent && (step === 'adult' || step === 'consent')) {
      // A language switch in the middle of onboarding: same step, new language.
      await consents.saveConsent({ ...consent, locale: action.locale, updatedAt: now, lastTurnKey: turnKey });
      return prompt(step, action.locale);
    }
    // The first choice, or starting again after a decline: a fresh record with nothing but the language.
    await consents.saveConsent({ userId, step: 'adult', locale: action.locale, startedAt: now, updatedAt: now, lastTurnKey: turnKey });
    return prompt('adult', action.locale);
  }
  if (action?.kind === 'adult' && consent && step === 'adult') {
    if (action.confirmed) {
      await consents.saveConsent({ ...consent, step: 'consent', adultConfirmedAt: now, updatedAt: now, lastTurnKey: turnKey });
      return prompt('consent', locale);
    }
    await consents.saveConsent({ ...consent, step: 'underage', underageAt: now, updatedAt: now, lastTurnKey: turnKey });
    return prompt('underage', locale);
  }
  if (action?.kind === 'consent' && consent && step === 'consent') {
    if (action.given) {
      await consents.grantConsent(userId, locale, now, turnKey);
      return prompt('consented', locale);
    }
    await consents.saveConsent({ ...consent, step: 'declined', declinedAt: now, updatedAt: now, lastTurnKey: turnKey });
    return prompt('declined', locale);
  }
  return stale();
}

