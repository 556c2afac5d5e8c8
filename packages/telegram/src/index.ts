export { sharedBotInfo } from './bot-info';
export { splitMessage, TELEGRAM_TEXT_LIMIT } from './split';
