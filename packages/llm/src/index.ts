export type { ChatProvider, ChatRequest, ChatResult, ChatTurn, TokenUsage } from './provider';
export { ProviderError, type ProviderErrorKind } from './errors';
export { OpenAIChatProvider, type OpenAIChatProviderOptions } from './openai';
export { GeminiChatProvider, type GeminiChatProviderOptions } from './gemini';
