import { GoogleGenAI, type Content, type GenerateContentConfig, type GenerateContentResponse } from '@google/genai';
import { Deadline } from './deadline';
import { assertApiKey, assertTimeout } from './guards';
import { ProviderError } from './errors';
import { mapGeminiError, type GeminiTransport } from './gemini-errors';
import type { ChatProvider, ChatRequest, ChatResult, TokenUsage } from './provider';

export interface GeminiChatProviderOptions {
  apiKey: string;
  model: string;
  /** Endpoint origin, e.g. http://127.0.0.1:8081; default the SDK's (generativelanguage.googleapis.com). */
  baseUrl?: string | undefined;
  /** API version path segment; default the SDK's own choice ('v1' in @google/genai 3.x). */
  apiVersion?: string | undefined;
  /** Name used in results, errors and metrics; default 'gemini'. */
  name?: string | undefined;
  /** Used when a request does not set maxOutputTokens; unset means the model's default. */
  defaultMaxOutputTokens?: number | undefined;
}

// Finish reasons that mean the model declined the content; anything else without text (e.g.
// MAX_TOKENS after thinking used up the limit) is a provider fault.
const DECLINED = new Set(['SAFETY', 'RECITATION', 'BLOCKLIST', 'PROHIBITED_CONTENT', 'SPII', 'IMAGE_SAFETY', 'IMAGE_PROHIBITED_CONTENT']);

function toContents(request: ChatRequest): Content[] {
  return request.turns.map((turn) => ({ role: turn.role === 'assistant' ? 'model' : 'user', parts: [{ text: turn.text }] }));
}

function toUsage(meta: GenerateContentResponse['usageMetadata']): TokenUsage {
  return {
    inputTokens: meta?.promptTokenCount ?? 0,
    cachedInputTokens: meta?.cachedContentTokenCount ?? 0,
    // Gemini counts thoughts apart from the candidates (unlike OpenAI's completion_tokens).
    outputTokens: meta?.candidatesTokenCount ?? 0,
    reasoningTokens: meta?.thoughtsTokenCount ?? 0,
  };
}

/** Concatenates the text parts of the first candidate, leaving out thought summaries. */
function replyText(response: GenerateContentResponse): string {
  const parts = response.candidates?.[0]?.content?.parts ?? [];
  return parts
    .filter((p) => typeof p.text === 'string' && p.thought !== true)
    .map((p) => p.text)
    .join('');
}

/** A fetch that remembers the response headers, or that fetch failed, for the error mapping. */
function recordingFetch(transport: GeminiTransport): typeof fetch {
  return async (input, init) => {
    try {
      const response = await fetch(input, init);
      transport.headers = response.headers;
      return response;
    } catch (err) {
      transport.fetchFailed = true;
      throw err;
    }
  };
}

/**
 * ChatProvider over the Gemini API generateContent via the official `@google/genai` SDK.
 * Guarantees: exactly one HTTP attempt per complete() (no SDK retryOptions); the call is aborted after
 * request.timeoutMs; every failure is a ProviderError (see mapGeminiError); the system prompt goes in
 * systemInstruction, byte for byte; assistant turns are sent with Gemini's 'model' role.
 * The constructor throws ProviderError kind 'auth' when apiKey is empty (fail at startup, not per call).
 */
export class GeminiChatProvider implements ChatProvider {
  readonly name: string;
  readonly model: string;
  private readonly ai: GoogleGenAI;
  private readonly defaultMaxOutputTokens: number | undefined;

  constructor(options: GeminiChatProviderOptions) {
    this.name = options.name ?? 'gemini';
    assertApiKey(this.name, options.apiKey);
    this.model = options.model;
    this.defaultMaxOutputTokens = options.defaultMaxOutputTokens;
    const httpOptions = {
      ...(options.baseUrl ? { baseUrl: options.baseUrl } : {}),
      ...(options.apiVersion ? { apiVersion: options.apiVersion } : {}),
    };
    // vertexai: false pins the Gemini API even if GOOGLE_GENAI_USE_VERTEXAI is set in the environment.
    this.ai = new GoogleGenAI({ apiKey: options.apiKey, vertexai: false, httpOptions });
  }

  /** One generateContent call; see the class doc for guarantees. */
  async complete(request: ChatRequest): Promise<ChatResult> {
    assertTimeout(this.name, request.timeoutMs);
    const started = performance.now();
    const deadline = new Deadline(request.timeoutMs);
    const transport: GeminiTransport = { fetchFailed: false };
    try {
      const response = await this.ai.models.generateContent({
        model: this.model,
        contents: toContents(request),
        config: this.toConfig(request, deadline.signal, transport),
      });
      return this.toResult(response, started);
    } catch (err) {
      throw mapGeminiError(err, this.name, deadline.expired, request.timeoutMs, transport);
    } finally {
      deadline.dispose();
    }
  }

  private toConfig(request: ChatRequest, signal: AbortSignal, transport: GeminiTransport): GenerateContentConfig {
    const maxOutputTokens = request.maxOutputTokens ?? this.defaultMaxOutputTokens;
    return {
      // An empty system prompt is left out rather than sent as an empty instruction.
      ...(request.system !== '' ? { systemInstruction: { parts: [{ text: request.system }] } } : {}),
      ...(maxOutputTokens !== undefined ? { maxOutputTokens } : {}),
      ...(request.temperature !== undefined ? { temperature: request.temperature } : {}),
      ...(request.thinkingBudget !== undefined ? { thinkingConfig: { thinkingBudget: request.thinkingBudget } } : {}),
      // Only our signal bounds the call: an SDK `timeout` would race it and blur the error kind.
      abortSignal: signal,
      httpOptions: { fetch: recordingFetch(transport) },
    };
  }

  private toResult(response: GenerateContentResponse, started: number): ChatResult {
    const text = replyText(response);
    if (text === '') {
      const reason = response.promptFeedback?.blockReason ?? response.candidates?.[0]?.finishReason;
      const declined = response.promptFeedback?.blockReason !== undefined || (reason !== undefined && DECLINED.has(reason));
      throw new ProviderError(this.name, declined ? 'refused' : 'server', `${this.name}: no text in the reply (${reason ?? 'no reason'})`);
    }
    return {
      text,
      usage: toUsage(response.usageMetadata),
      provider: this.name,
      model: response.modelVersion || this.model,
      latencyMs: Math.round(performance.now() - started),
    };
  }
}
