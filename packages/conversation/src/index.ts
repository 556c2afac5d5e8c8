export { Conversation } from './conversation';
export type {
  AdminConsole,
  Button,
  ButtonNonces,
  ConsentMemory,
  ConsentState,
  ConsentStep,
  ConversationMemory,
  ContextCache,
  ConversationOptions,
  DataRights,
  LimitVerdict,
  NoncePurpose,
  Incoming,
  Reply,
  SafetyCheck,
  SelfCheckMemory,
  SelfCheckRunState,
  SessionEndReason,
  SessionMemory,
  SessionMessage,
  SessionState,
  UsageLimits,
} from './types';
export { MAX_ACTION_BYTES, encodeAction, newNonce, parseAction } from './actions';
export type { Action } from './actions';
export { SYSTEM_PROMPT, SUMMARY_PROMPT } from './system-prompt';
export { assemblePrompt, estimateTokens, CONTEXT_NOTES_HEADER } from './flows/context';
export { DEFAULT_SESSION_INACTIVITY_MS, DEFAULT_SESSION_TOKEN_BUDGET } from './flows/sessions';
export { TEXTS, LOCALES, localeFromLanguageCode, fill, placeholdersOf } from './locales';
export type { Locale, Texts } from './locales';
export { crisisCheck } from './safety';
export { SafetyCheckUnavailableError, TurnDeferredError } from './errors';
export type { DeferReason } from './errors';
export type { CrisisCheckOptions } from './safety';
export { isSimpleMessage } from './simple-messages';
