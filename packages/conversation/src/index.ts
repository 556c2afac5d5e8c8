export { Conversation } from './conversation';
export type {
  Button,
  ConsentMemory,
  ConsentState,
  ConsentStep,
  ConversationMemory,
  ConversationOptions,
  Incoming,
  Reply,
  SafetyCheck,
  SelfCheckMemory,
  SelfCheckRunState,
} from './types';
export { MAX_ACTION_BYTES, encodeAction, parseAction } from './actions';
export type { Action } from './actions';
export { SYSTEM_PROMPT } from './system-prompt';
export { TEXTS, LOCALES, localeFromLanguageCode, fill, placeholdersOf } from './locales';
export type { Locale, Texts } from './locales';
export { crisisCheck } from './safety';
export type { CrisisCheckOptions } from './safety';
