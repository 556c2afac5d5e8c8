import { geminiDialect } from './gemini';
import { openaiDialect } from './openai';
import { startMockServer, type MockLlmOptions, type MockLlmServer } from './server';
import type { MockProvider } from './types';

/**
 * Starts a mock of the OpenAI Chat Completions API (`POST /v1/chat/completions`) that the official
 * `openai` SDK accepts unchanged with `baseURL: server.sdkBaseUrl`. Guarantees: resolves once listening
 * (port 0 = a free port); replies are deterministic (`Mock reply to: <last user text>`); errors use
 * OpenAI's `{error:{message,type,param,code}}` shape; the caller must close() it.
 */
export function startMockOpenAI(options?: MockLlmOptions): Promise<MockLlmServer> {
  return startMockServer(openaiDialect, options);
}

/**
 * Starts a mock of the Gemini API generateContent (`POST /{v1,v1beta}/models/{model}:generateContent`,
 * key in `x-goog-api-key` or `?key=`) that `@google/genai` accepts with `httpOptions.baseUrl: server.sdkBaseUrl`.
 * Same guarantees as startMockOpenAI; errors use Google's `{error:{code,message,status,details}}` shape.
 */
export function startMockGemini(options?: MockLlmOptions): Promise<MockLlmServer> {
  return startMockServer(geminiDialect, options);
}

/** Starts the mock for the named provider (see startMockOpenAI / startMockGemini). */
export function startMockLlm(provider: MockProvider, options?: MockLlmOptions): Promise<MockLlmServer> {
  return provider === 'openai' ? startMockOpenAI(options) : startMockGemini(options);
}

export type { MockLlmOptions, MockLlmServer } from './server';
export type {
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
} from './types';
export { mockLlmControl, type MockLlmControl } from './control-client';
export { apiKeyFingerprint } from './fingerprint';
export { mockReplyText, estimateTokens, isClassifierRequest, CLASSIFIER_PROMPT_START, RISK_MARKERS } from './reply';
export { createRng, sampleLatencyMs, type Rng } from './rng';
export { MockInputError } from './validate';
