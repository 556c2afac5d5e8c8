import { classifyByPhrases } from '@inner-talk/safety';
import { parseAction } from './actions';
import { StorageTooSlowError, TurnDeferredError } from './errors';
import { beforeConsent, isOnboardingAction, languageButtons, stepPrompt } from './flows/onboarding';
import { answerSelfCheck, startSelfCheck, testMenu } from './flows/self-check';
import { exportCommand, forgetChoice, forgetCommand } from './flows/data-rights';
import { invalidateContext } from './flows/context';
import { deleteSummary, endCommand, historyCommand, newSessionCommand } from './flows/sessions';
import { talk } from './flows/talk';
import { editedMessage } from './flows/edit';
import { crisisReply, sosReply, type Turn } from './flows/turn';
import { asLocale, TEXTS, type Locale } from './locales';
import type { ConsentState, ConversationOptions, Incoming, Reply } from './types';

const DAY_MS = 86_400_000;
/** Default of `urgentStorageWaitMs`. */
const URGENT_STORAGE_WAIT_MS = 1_500;
/** How precisely a person's last activity is kept (see `handle`). */
const ACTIVITY_RESOLUTION_MS = 60 * 60 * 1000;

/**
 * The conversation core: turns what a person did into replies. It knows nothing of Telegram or
 * queues; the channel adapter translates. A small router: /sos first (always answered), then
 * onboarding until consent, then commands, button choices and free talk, each in its own flow
 * module (`flows/`).
 *
 * Guarantees:
 * - Nothing but consent state is written before the person consents; their texts are neither
 *   stored nor sent to the model.
 * - Crisis handling comes before any model reply.
 * - The same event (`turnKey`) handled twice gives the same replies and calls the model at most once
 *   after its reply was stored; stale or forged button choices change nothing.
 * - Model failures propagate as ProviderError for the caller's retry policy.
 * - The crisis reply needs neither storage nor the model: /sos, and a text the offline phrase list
 *   rates high, wait at most `urgentStorageWaitMs` for the person's consent record. Past that (or
 *   when the read fails) /sos is answered in the channel's language, and the text's crisis reply
 *   travels in a TurnDeferredError (`storage_unavailable`): sent at once, and the first reply again
 *   when the turn runs once storage is back, which then stores its risk event.
 */
export class Conversation {
  private readonly now: () => Date;

  constructor(private readonly options: ConversationOptions) {
    this.now = options.now ?? (() => new Date());
  }

  /** Handles one event; replies in order. */
  async handle(incoming: Incoming): Promise<Reply[]> {
    const now = this.now();
    const isSos = incoming.kind === 'command' && incoming.name === 'sos';
    // Texts, captions (texts too) and edits: whatever a person wrote is read for risk before any storage.
    const offlineRisk = incoming.kind === 'text' || incoming.kind === 'edit' ? classifyByPhrases(incoming.text).level : 'none';
    let consent: ConsentState | null;
    try {
      const read = this.options.consents.consentOf(incoming.userId);
      // A down database answers only after the driver's server selection timeout (seconds): a crisis
      // reply does not wait for that.
      consent = isSos || offlineRisk === 'high' ? await within(read, this.options.urgentStorageWaitMs ?? URGENT_STORAGE_WAIT_MS) : await read;
    } catch (error) {
      // /sos and the crisis reply must work even when storage does not: answer in the channel's language.
      const texts = TEXTS[incoming.locale];
      if (isSos) return [sosReply(incoming.locale, texts)];
      if (offlineRisk === 'high') throw new TurnDeferredError('storage_unavailable', [crisisReply(texts.crisisHigh, incoming.locale, texts)], null, { cause: error });
      throw error;
    }
    const locale: Locale = asLocale(consent?.locale) ?? incoming.locale;
    const turn: Turn = { incoming, userId: incoming.userId, turnKey: incoming.turnKey, locale, texts: TEXTS[locale], now, clock: this.now, consent, deps: this.options };
    if (isSos) return [sosReply(locale, turn.texts)];
    if (incoming.kind === 'edit') return editedMessage(turn as Turn<'edit'>);
    // A confirmed /forget (with the person's own live nonce) deletes whatever is left, whatever the
    // consent state (a retried press arrives after the consent record is gone and must confirm
    // again, not restart onboarding).
    const forget = incoming.kind === 'choice' ? parseAction(incoming.action) : null;
    if (forget?.kind === 'forget') return forgetChoice(turn, forget);
    // Operators need no onboarding; everyone else gets the ordinary answer to an unknown command.
    if (incoming.kind === 'command' && incoming.name === 'admin') return this.admin(turn, incoming.args ?? '');
    if (consent?.step !== 'consented') return beforeConsent(turn);

    const replies = await this.afterConsent(turn, consent);
    // After a long absence the AI disclosure is repeated, unless the reply already carries it.
    const absentFor = consent.lastActiveAt ? now.getTime() - consent.lastActiveAt.getTime() : 0;
    const carriesDisclosure = incoming.kind === 'command' && (incoming.name === 'help' || incoming.name === 'start');
    const disclosureAfterMs = this.options.disclosureAfterMs ?? 7 * DAY_MS;
    // The activity time only decides the disclosure after a long absence, so it is written at most
    // once per resolution (an hour, or a tenth of the absence): most turns skip this write.
    const resolutionMs = Math.min(ACTIVITY_RESOLUTION_MS, disclosureAfterMs / 10);
    if (absentFor >= resolutionMs || !consent.lastActiveAt) await this.options.consents.markActive(incoming.userId, now);
    if (absentFor >= disclosureAfterMs && !carriesDisclosure) {
      // A crisis reply stays first (and is the first reply of every run of the turn, see the class doc).
      const disclosure = { text: turn.texts.disclosureAfterAbsence };
      return offlineRisk === 'high' ? [...replies, disclosure] : [disclosure, ...replies];
    }
    return replies;
  }

  private async admin(turn: Turn, args: string): Promise<Reply[]> {
    const adminConsole = this.options.admin;
    if (!adminConsole?.isAdmin(turn.userId)) {
      await adminConsole?.refused(turn.userId, turn.turnKey);
      return [{ text: turn.texts.unknownCommand }];
    }
    return [{ text: await adminConsole.run(turn.userId, args, turn.turnKey) }];
  }

  private async afterConsent(turn: Turn, consent: ConsentState): Promise<Reply[]> {
    const { incoming, texts, locale } = turn;
    switch (incoming.kind) {
      case 'command':
        switch (incoming.name) {
          case 'start':
            return [{ text: texts.welcomeBack }];
          case 'help':
            return [{ text: texts.help }];
          case 'language':
            return [{ text: texts.languagePrompt, buttons: languageButtons(texts) }];
          case 'test':
            return testMenu(locale, texts);
          case 'end':
            return endCommand(turn);
          case 'session':
            return newSessionCommand(turn);
          case 'history':
            return historyCommand(turn);
          case 'export':
            return exportCommand(turn);
          case 'forget':
            return forgetCommand(turn);
          default:
            return [{ text: texts.unknownCommand }];
        }
      case 'text':
        return talk(turn as Turn<'text'>);
      case 'unsupported':
        return [{ text: texts.emptyMessage }];
      case 'edit':
        return []; // answered by editedMessage before consent is looked at
      case 'choice': {
        const choice = turn as Turn<'choice'>;
        const action = parseAction(incoming.action);
        switch (action?.kind) {
          case 'language':
            await this.options.consents.saveConsent({ ...consent, locale: action.locale, updatedAt: turn.now });
            await invalidateContext(turn);
            return [{ text: TEXTS[action.locale].languageSet }];
          case 'test':
            return startSelfCheck(choice, action.questionnaire);
          case 'answer':
            return answerSelfCheck(choice, action);
          case 'delete_summary':
            return deleteSummary(turn, action.sessionId, action.nonce);
          default:
            // The consent press handled again after it was stored: answer as the first time did.
            if (isOnboardingAction(action) && consent.lastTurnKey === turn.turnKey) return stepPrompt('consented', locale);
            return [{ text: texts.staleChoice }];
        }
      }
    }
  }
}

/** `work`, or StorageTooSlowError after `ms`; a late failure of `work` is not left unhandled. */
async function within<T>(work: Promise<T>, ms: number): Promise<T> {
  work.catch(() => undefined);
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new StorageTooSlowError(ms)), ms);
  });
  try {
    return await Promise.race([work, late]);
  } finally {
    clearTimeout(timer);
  }
}
