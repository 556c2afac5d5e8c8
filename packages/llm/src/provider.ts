/** One message of a conversation as the model sees it. */
export interface ChatTurn {
  role: 'user' | 'assistant';
  text: string;
}

/** What we ask a model for. The system prompt comes first and stays byte-stable across turns. */
export interface ChatRequest {
  system: string;
  turns: readonly ChatTurn[];
  maxOutputTokens?: number;
  temperature?: number;
  /**
   * Tokens the model may spend thinking before it answers; 0 turns thinking off. Gemini 2.5 Flash
   * thinks by default and its thinking counts against maxOutputTokens, so a call that wants a few
   * words with a small limit must set 0 or get no text at all. Adapters without a thinking control
   * ignore it.
   */
  thinkingBudget?: number;
  /** Abort the call after this many milliseconds (the adapter raises ProviderError kind 'timeout'). */
  timeoutMs: number;
}

/** Token usage as the provider reported it. Missing fields are 0. */
export interface TokenUsage {
  inputTokens: number;
  cachedInputTokens: number;
  outputTokens: number;
  reasoningTokens: number;
}

export interface ChatResult {
  text: string;
  usage: TokenUsage;
  provider: string;
  model: string;
  latencyMs: number;
}

/**
 * The seam every LLM provider implements. Implementations make exactly one HTTP attempt per call
 * (SDK retries are off: the gateway and the queue own retries) and throw only ProviderError.
 */
export interface ChatProvider {
  readonly name: string;
  readonly model: string;
  complete(request: ChatRequest): Promise<ChatResult>;
}
