import { createHash, randomBytes } from 'node:crypto';
import type { QuestionnaireId } from '@inner-talk/assessments';
import type { Locale } from './locales';

/** Telegram's limit on callback_data, which carries a button's action. */
export const MAX_ACTION_BYTES = 64;

/** What a button means once parsed. Actions are short strings so they fit every channel's limit. */
export type Action =
  | { kind: 'language'; locale: Locale }
  | { kind: 'adult'; confirmed: boolean }
  | { kind: 'consent'; given: boolean }
  | { kind: 'test'; questionnaire: QuestionnaireId }
  /** An answer to question `index` of self-check run `runId`: both ride along so a stale button is recognised. */
  | { kind: 'answer'; runId: string; index: number; value: number }
  /**
   * Delete the summary of session `sessionId` (a `/history` button). `nonce` binds it to the
   * `/history` listing it came with (see ButtonNonces); '' for a button without one.
   */
  | { kind: 'delete_summary'; sessionId: string; nonce: string }
  /**
   * The `/forget` confirmation: delete everything (only with the `nonce` of the person's own
   * `/forget`; '' for a button without one), or keep it.
   */
  | { kind: 'forget'; confirmed: true; nonce: string }
  | { kind: 'forget'; confirmed: false };

const RUN_ID = /^[A-Za-z0-9_-]{1,32}$/;
const NONCE = /^[A-Za-z0-9_-]{1,24}$/;

/**
 * A fresh nonce for buttons that change or delete data: 12 url-safe characters (72 random bits),
 * so it cannot be guessed, and short enough that `h:d:<session id>:<nonce>` fits MAX_ACTION_BYTES.
 */
export function newNonce(): string {
  return randomBytes(9).toString('base64url');
}

/** Encodes an action for a button; the result is at most MAX_ACTION_BYTES bytes. */
export function encodeAction(action: Action): string {
  switch (action.kind) {
    case 'language':
      return `l:${action.locale}`;
    case 'adult':
      return action.confirmed ? 'o:18y' : 'o:18n';
    case 'consent':
      return action.given ? 'o:cy' : 'o:cn';
    case 'test':
      return `t:${action.questionnaire}`;
    case 'answer':
      if (!RUN_ID.test(action.runId)) throw new RangeError('run id must be 1–32 url-safe characters');
      return `a:${action.runId}:${action.index}:${action.value}`;
    case 'delete_summary':
      if (!RUN_ID.test(action.sessionId)) throw new RangeError('session id must be 1–32 url-safe characters');
      if (!NONCE.test(action.nonce)) throw new RangeError('nonce must be 1–24 url-safe characters');
      return `h:d:${action.sessionId}:${action.nonce}`;
    case 'forget':
      if (!action.confirmed) return 'f:n';
      if (!NONCE.test(action.nonce)) throw new RangeError('nonce must be 1–24 url-safe characters');
      return `f:y:${action.nonce}`;
  }
}

/** Parses a button's action; null for anything we did not produce (old formats, forged data). */
export function parseAction(raw: string): Action | null {
  if (Buffer.byteLength(raw, 'utf8') > MAX_ACTION_BYTES) return null;
  switch (raw) {
    case 'l:ru':
      return { kind: 'language', locale: 'ru' };
    case 'l:en':
      return { kind: 'language', locale: 'en' };
    case 'o:18y':
      return { kind: 'adult', confirmed: true };
    case 'o:18n':
      return { kind: 'adult', confirmed: false };
    case 'o:cy':
      return { kind: 'consent', given: true };
    case 'o:cn':
      return { kind: 'consent', given: false };
    case 't:phq9':
      return { kind: 'test', questionnaire: 'phq9' };
    case 't:gad7':
      return { kind: 'test', questionnaire: 'gad7' };
    case 'f:n':
      return { kind: 'forget', confirmed: false };
  }
  // Buttons of earlier versions carried no nonce: they parse, and are then refused as no longer active.
  const forget = /^f:y(?::([A-Za-z0-9_-]{1,24}))?$/.exec(raw);
  if (forget) return { kind: 'forget', confirmed: true, nonce: forget[1] ?? '' };
  const deletion = /^h:d:([A-Za-z0-9_-]{1,32})(?::([A-Za-z0-9_-]{1,24}))?$/.exec(raw);
  if (deletion) return { kind: 'delete_summary', sessionId: deletion[1]!, nonce: deletion[2] ?? '' };
  const answer = /^a:([A-Za-z0-9_-]{1,32}):(\d{1,2}):([0-3])$/.exec(raw);
  if (answer) return { kind: 'answer', runId: answer[1]!, index: Number(answer[2]), value: Number(answer[3]) };
  return null;
}

/**
 * The id of the self-check run started by one event: derived from the person and the event, so the
 * same event handled twice starts the same run. 16 url-safe characters (96 bits).
 */
export function runIdFor(userId: string, turnKey: string): string {
  return createHash('sha256').update(`${userId}|${turnKey}`).digest('base64url').slice(0, 16);
}
