export {
  startMockOpenAI,
  startMockGemini,
  startMockLlm,
  mockLlmControl,
  mockReplyText,
  estimateTokens,
  apiKeyFingerprint,
  createRng,
  sampleLatencyMs,
  MockInputError,
} from './llm';
export type {
  MockLlmOptions,
  MockLlmServer,
  MockLlmControl,
  LatencySpec,
  MockFault,
  MockLlmConfig,
  MockProvider,
  MockReceivedMessage,
  MockRequestRecord,
  MockStats,
  Rng,
} from './llm';
export { startTelegramEmulator, DEFAULT_STUB_METHODS, telegramUserClient } from './telegram';
export type { TelegramEmulator, TelegramEmulatorOptions, TelegramUserClient, BotApiCall, BotMessage, InlineButton, SentUpdate, TelegramUserOptions } from './telegram';
