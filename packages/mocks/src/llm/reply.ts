import type { MockReceivedMessage } from './types';

const QUOTE_CHARS = 200;

/** How the safety classifier's system prompt begins (packages/safety CLASSIFIER_PROMPT). */
export const CLASSIFIER_PROMPT_START = 'You are a safety classifier';

/**
 * Markers a test puts into a user message to drive the classifier answer through the real model
 * layer: `[[risk:high]]` → `HIGH`, `[[risk:low]]` → `LOW`. Without one the classifier answers `NONE`,
 * so ordinary test traffic is not turned into crisis replies.
 */
export const RISK_MARKERS = { high: '[[risk:high]]', low: '[[risk:low]]' } as const;

/**
 * The deterministic reply text. To the safety classifier (a system prompt starting with
 * {@link CLASSIFIER_PROMPT_START}) it answers one word: `HIGH` or `LOW` when the last user turn
 * carries the matching {@link RISK_MARKERS} marker (high wins), `NONE` otherwise. To anything else:
 * `Mock reply to: ` plus the first 200 characters (code points, so emoji are not split) of the last
 * user turn, or of nothing when there is none.
 */
export function mockReplyText(messages: readonly MockReceivedMessage[], system: string | null = null): string {
  const lastUser = [...messages].reverse().find((m) => m.role === 'user');
  const text = lastUser?.text ?? '';
  if (system !== null && system.startsWith(CLASSIFIER_PROMPT_START)) {
    if (text.includes(RISK_MARKERS.high)) return 'HIGH';
    if (text.includes(RISK_MARKERS.low)) return 'LOW';
    return 'NONE';
  }
  const quoted = Array.from(text).slice(0, QUOTE_CHARS).join('');
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

/** True for a request the safety classifier made (its system prompt), false for a conversation reply. */
export function isClassifierRequest(request: { system: string | null }): boolean {
  return request.system?.startsWith(CLASSIFIER_PROMPT_START) ?? false;
}
