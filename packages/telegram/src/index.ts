export { sharedBotInfo } from './bot-info';
export { splitMessage, TELEGRAM_TEXT_LIMIT } from './split';
export { ALLOWED_UPDATES, TELEGRAM_SHARED_SENDERS, isSharedSender } from './chats';
