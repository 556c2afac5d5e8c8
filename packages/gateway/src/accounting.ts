import type { TokenUsage } from '@inner-talk/llm';
import type { Price } from './config';

/**
 * Cost of one call in USD from the usage the provider reported. Cached input tokens are billed at
 * the cached price and are part of the input count (both providers report them that way).
 * Reasoning tokens are billed as output: OpenAI includes them in completion tokens already, Gemini
 * reports them separately.
 */
export function callCostUsd(usage: TokenUsage, price: Price, api: 'gemini' | 'openai'): number {
  const cached = Math.min(usage.cachedInputTokens, usage.inputTokens);
  const freshInput = usage.inputTokens - cached;
  const output = usage.outputTokens + (api === 'gemini' ? usage.reasoningTokens : 0);
  return (freshInput * price.inputPerM + cached * price.cachedInputPerM + output * price.outputPerM) / 1_000_000;
}

/** A rough token count for reserving TPM before a call (about 4 characters per token, plus the reply budget). */
export function estimateTokens(texts: readonly string[], maxOutputTokens: number): number {
  const chars = texts.reduce((sum, t) => sum + t.length, 0);
  return Math.ceil(chars / 4) + maxOutputTokens;
}
