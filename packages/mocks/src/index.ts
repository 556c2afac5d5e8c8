export {
  startMockOpenAI,
  startMockGemini,
  startMockLlm,
  mockLlmControl,
  mockReplyText,
  isClassifierRequest,
  CLASSIFIER_PROMPT_START,
  RISK_MARKERS,
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
  MockDownMode,
  MockFault,
  MockFaultSource,
  MockLlmConfig,
  MockOutcomeKind,
  MockProvider,
  MockQuotaScope,
  MockReceivedMessage,
  MockRequestRecord,
  MockRetryAfterHeaders,
  MockStats,
  Rng,
} from './llm';
export { startTelegramEmulator, DEFAULT_STUB_METHODS, telegramUserClient } from './telegram';
export type { TelegramEmulator, TelegramEmulatorOptions, TelegramUserClient, BotApiCall, BotMessage, InlineButton, SentUpdate, TelegramUserOptions } from './telegram';
export { startStrictBotApi } from './telegram';
export type { StrictBotApi, StrictBotApiOptions, StrictBotApiCall, StrictWebhook, DeliveryResult, UploadedFile, GroupKind } from './telegram';
