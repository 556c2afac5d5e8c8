export { Conversation } from './conversation';
export type { ConversationMemory, ConversationOptions, Incoming, Reply } from './conversation';
export { SYSTEM_PROMPT } from './system-prompt';
export { TEXTS, localeFromLanguageCode } from './locales';
export type { Locale, Texts } from './locales';
