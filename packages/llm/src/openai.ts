import OpenAI from 'openai';
import type { ChatCompletion, ChatCompletionCreateParamsNonStreaming, ChatCompletionMessageParam } from 'openai/resources/chat/completions';
import { Deadline } from './deadline';
import { assertApiKey, assertTimeout } from './guards';
import { ProviderError } from './errors';
import { mapOpenAIError } from './openai-errors';
import type { ChatProvider, ChatRequest, ChatResult, TokenUsage } from './provider';

export interface OpenAIChatProviderOptions {
  apiKey: string;
  model: string;
  /** Any OpenAI-compatible endpoint, e.g. http://127.0.0.1:8080/v1; default the SDK's (OPENAI_BASE_URL or api.openai.com). */
  baseURL?: string | undefined;
  /** Name used in results, errors and metrics; default 'openai'. */
  name?: string | undefined;
  /** Used when a request does not set maxOutputTokens; unset means the provider's default. */
  defaultMaxOutputTokens?: number | undefined;
  /**
   * Which request field carries the output limit: 'max_completion_tokens' (default; current OpenAI API,
   * required by reasoning models) or 'max_tokens' (older OpenAI-compatible servers).
   */
  maxTokensField?: 'max_completion_tokens' | 'max_tokens' | undefined;
}

function toMessages(request: ChatRequest): ChatCompletionMessageParam[] {
  const messages: ChatCompletionMessageParam[] = [];
  // An empty system prompt is left out rather than sent as an empty system message.
  if (request.system !== '') messages.push({ role: 'system', content: request.system });
  for (const turn of request.turns) messages.push({ role: turn.role, content: turn.text });
  return messages;
}

function toUsage(usage: ChatCompletion['usage']): TokenUsage {
  return {
    inputTokens: usage?.prompt_tokens ?? 0,
    cachedInputTokens: usage?.prompt_tokens_details?.cached_tokens ?? 0,
    // completion_tokens already includes reasoning tokens in OpenAI's accounting.
    outputTokens: usage?.completion_tokens ?? 0,
    reasoningTokens: usage?.completion_tokens_details?.reasoning_tokens ?? 0,
  };
}

/**
 * ChatProvider over the OpenAI Chat Completions API (or any compatible endpoint) via the official SDK.
 * Guarantees: exactly one HTTP attempt per complete() (SDK retries off); the call is aborted after
 * request.timeoutMs; every failure is a ProviderError (see mapOpenAIError); the system prompt is sent
 * first, byte for byte; SDK logging is off so keys and message texts never reach the console;
 * `thinkingBudget` is not sent (Chat Completions has no budget in tokens; non-reasoning models do
 * not think, so the output limit is all theirs); a refusal or content filter is kind 'refused'.
 * The constructor throws ProviderError kind 'auth' when apiKey is empty (fail at startup, not per call).
 */
export class OpenAIChatProvider implements ChatProvider {
  readonly name: string;
  readonly model: string;
  private readonly client: OpenAI;
  private readonly defaultMaxOutputTokens: number | undefined;
  private readonly maxTokensField: 'max_completion_tokens' | 'max_tokens';

  constructor(options: OpenAIChatProviderOptions) {
    this.name = options.name ?? 'openai';
    assertApiKey(this.name, options.apiKey);
    this.model = options.model;
    this.defaultMaxOutputTokens = options.defaultMaxOutputTokens;
    this.maxTokensField = options.maxTokensField ?? 'max_completion_tokens';
    this.client = new OpenAI({
      apiKey: options.apiKey,
      ...(options.baseURL ? { baseURL: options.baseURL } : {}),
      // The gateway and the queue own retries; a hidden SDK retry would double-count and hide failures.
      maxRetries: 0,
      // The SDK's debug log prints request bodies (message texts); keep it off whatever OPENAI_LOG says.
      logLevel: 'off',
    });
  }

  /** One chat completion; see the class doc for guarantees. */
  async complete(request: ChatRequest): Promise<ChatResult> {
    assertTimeout(this.name, request.timeoutMs);
    const started = performance.now();
    const deadline = new Deadline(request.timeoutMs);
    try {
      const completion = await this.client.chat.completions.create(this.toParams(request), { signal: deadline.signal });
      return this.toResult(completion, started);
    } catch (err) {
      throw mapOpenAIError(err, this.name, deadline.expired, request.timeoutMs);
    } finally {
      deadline.dispose();
    }
  }

  private toParams(request: ChatRequest): ChatCompletionCreateParamsNonStreaming {
    const maxTokens = request.maxOutputTokens ?? this.defaultMaxOutputTokens;
    return {
      model: this.model,
      messages: toMessages(request),
      ...(maxTokens !== undefined ? { [this.maxTokensField]: maxTokens } : {}),
      ...(request.temperature !== undefined ? { temperature: request.temperature } : {}),
    };
  }

  private toResult(completion: ChatCompletion, started: number): ChatResult {
    const choice = completion.choices?.[0];
    const text = choice?.message?.content;
    if (typeof text !== 'string' || text === '') {
      // A refusal or content filter is the model declining our input: not the provider failing.
      const declined = Boolean(choice?.message?.refusal) || choice?.finish_reason === 'content_filter';
      throw new ProviderError(
        this.name,
        declined ? 'refused' : 'server',
        `${this.name}: no text in the reply (finish_reason ${choice?.finish_reason ?? 'missing'})`,
      );
    }
    return {
      text,
      usage: toUsage(completion.usage),
      provider: this.name,
      model: completion.model || this.model,
      latencyMs: Math.round(performance.now() - started),
    };
  }
}
