export { startTelegramEmulator, DEFAULT_STUB_METHODS } from './emulator';
export type { TelegramEmulator, TelegramEmulatorOptions } from './emulator';
export { telegramUserClient } from './client';
export type { TelegramUserClient } from './client';
export type { BotApiCall, BotMessage, InlineButton, SentUpdate, TelegramUserOptions } from './types';
export { startStrictBotApi } from './strict-bot-api';
export type { StrictBotApi, StrictBotApiOptions, StrictBotApiCall, StrictWebhook, DeliveryResult, UploadedFile, GroupKind } from './strict-bot-api';
