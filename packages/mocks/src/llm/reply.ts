import type { MockReceivedMessage } from './types';

const QUOTE_CHARS = 200;

/**
 * The deterministic reply text: `Mock reply to: ` plus the first 200 characters (code points, so
 * emoji are not split) of the last user turn, or of nothing when there is none.
 */
export function mockReplyText(messages: readonly MockReceivedMessage[], userRole = 'user'): string {
  const lastUser = [...messages].reverse().find((m) => m.role === userRole);
  const quoted = Array.from(lastUser?.text ?? '').slice(0, QUOTE_CHARS).join('');
  return `Mock reply to: ${quoted}`;
}

/** A rough token estimate (about 4 characters per token); 0 for empty text. */
export function estimateTokens(text: string): number {
  return Math.ceil(text.length / 4);
}

/** Token counts for a reply, in provider-neutral form. */
export interface MockUsage {
  input: number;
  cached: number;
  output: number;
  reasoning: number;
}

/** Usage for a reply: input from the whole prompt, cached capped at input, output from the reply. */
export function mockUsage(
  promptText: string,
  replyText: string,
  cachedTokens: number,
  reasoningTokens: number,
): MockUsage {
  const input = estimateTokens(promptText);
  return { input, cached: Math.min(cachedTokens, input), output: estimateTokens(replyText), reasoning: reasoningTokens };
}
