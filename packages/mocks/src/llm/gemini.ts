import type { ApiRoute, ParsedCall, ProviderDialect } from './dialect';
import { emptyCall, firstHeader, isRecord, numberOrNull, protoDuration, type QuotaInfo } from './dialect';
import type { MockQuotaScope, MockReceivedMessage } from './types';

// The SDK picks the API version (v1 by default in @google/genai 3.x, v1beta in older releases and docs);
// accept all public ones so the mock does not care which the client uses.
const ROUTE = /^\/(v1|v1beta|v1alpha)\/models\/([^/:]+):generateContent$/;
const ROLES = new Set(['user', 'model']);

const GRPC_STATUS: Record<number, string> = {
  400: 'INVALID_ARGUMENT',
  401: 'UNAUTHENTICATED',
  403: 'PERMISSION_DENIED',
  404: 'NOT_FOUND',
  409: 'ABORTED',
  429: 'RESOURCE_EXHAUSTED',
  499: 'CANCELLED',
  500: 'INTERNAL',
  501: 'NOT_IMPLEMENTED',
  503: 'UNAVAILABLE',
  504: 'DEADLINE_EXCEEDED',
};

function grpcStatus(status: number): string {
  return GRPC_STATUS[status] ?? (status >= 500 ? 'UNKNOWN' : 'FAILED_PRECONDITION');
}

/** The text of a Content's parts, or null when it is not a Content. */
function partsText(content: unknown): string | null {
  if (!isRecord(content) || !Array.isArray(content['parts'])) return null;
  const texts: string[] = [];
  for (const part of content['parts']) {
    if (!isRecord(part)) return null;
    if (typeof part['text'] === 'string') texts.push(part['text']);
  }
  return texts.join('');
}

function parseGenerate(body: unknown, route: ApiRoute): ParsedCall {
  const model = route.model;
  if (!isRecord(body)) return emptyCall('Invalid JSON payload received.', model);
  const contents = body['contents'];
  if (!Array.isArray(contents) || contents.length === 0) {
    return emptyCall('* GenerateContentRequest.contents: contents is not specified', model);
  }
  const messages: MockReceivedMessage[] = [];
  for (const content of contents) {
    const text = partsText(content);
    if (text === null) return emptyCall('* GenerateContentRequest.contents: invalid Content', model);
    // Role may be omitted for a single user turn; anything else than user/model is rejected, as Google does.
    const role = isRecord(content) && content['role'] !== undefined ? content['role'] : 'user';
    if (typeof role !== 'string' || !ROLES.has(role)) return emptyCall('Please use a valid role: user, model.', model);
    messages.push({ role, text });
  }
  const system = body['systemInstruction'] === undefined ? null : partsText(body['systemInstruction']);
  if (body['systemInstruction'] !== undefined && system === null) {
    return emptyCall('* GenerateContentRequest.system_instruction: invalid Content', model);
  }
  const generation = isRecord(body['generationConfig']) ? body['generationConfig'] : {};
  const thinking = isRecord(generation['thinkingConfig']) ? generation['thinkingConfig'] : {};
  return {
    model,
    system,
    messages,
    maxOutputTokens: numberOrNull(generation['maxOutputTokens']),
    temperature: numberOrNull(generation['temperature']),
    thinkingBudget: numberOrNull(thinking['thinkingBudget']),
    invalid: null,
  };
}

function googleError(status: number, message: string, details: unknown[] = []) {
  return { error: { code: status, message, status: grpcStatus(status), details } };
}

// Messages the Gemini API sends with these statuses.
const STATUS_MESSAGES: Record<number, string> = {
  500: 'An internal error has occurred. Please retry or report in https://developers.generativeai.google/guide/troubleshooting',
  503: 'The model is overloaded. Please try again later.',
  504: 'The request timed out. Please try again.',
};

const RATE_LIMITS_DOC = 'https://ai.google.dev/gemini-api/docs/rate-limits';
const REQUESTS_METRIC = 'generativelanguage.googleapis.com/generate_content_free_tier_requests';
// Free-tier style quota ids and made-up limits; clients should look at the PerMinute / PerDay part of the id.
const QUOTAS: Record<MockQuotaScope, { quotaId: string; limit: string }> = {
  minute: { quotaId: 'GenerateRequestsPerMinutePerProjectPerModel-FreeTier', limit: '15' },
  day: { quotaId: 'GenerateRequestsPerDayPerProjectPerModel-FreeTier', limit: '1500' },
};

/**
 * Gemini's 429 RESOURCE_EXHAUSTED as the API sends it (seen in googleapis/python-genai#2044 and
 * RooCodeInc/Roo-Code#3883): Help, QuotaFailure with the violated quotaId, and RetryInfo. Google sends the
 * RetryInfo even for a per-day quota (#2044), so clients must read the quotaId, not only the delay.
 */
function quotaError(scope: MockQuotaScope, { model, retryAfterMs }: QuotaInfo) {
  const quota = QUOTAS[scope];
  const modelName = model ?? 'unknown';
  const message =
    'You exceeded your current quota, please check your plan and billing details. For more information on this ' +
    `error, head to: ${RATE_LIMITS_DOC}. To monitor your current usage, head to: https://ai.dev/rate-limit. \n` +
    `* Quota exceeded for metric: ${REQUESTS_METRIC}, limit: ${quota.limit}, model: ${modelName}\n` +
    `Please retry in ${retryAfterMs / 1000}s.`;
  return googleError(429, message, [
    { '@type': 'type.googleapis.com/google.rpc.Help', links: [{ description: 'Learn more about Gemini API quotas', url: RATE_LIMITS_DOC }] },
    {
      '@type': 'type.googleapis.com/google.rpc.QuotaFailure',
      violations: [
        {
          quotaMetric: REQUESTS_METRIC,
          quotaId: quota.quotaId,
          quotaDimensions: { location: 'global', model: modelName },
          quotaValue: quota.limit,
        },
      ],
    },
    { '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: protoDuration(retryAfterMs) },
  ]);
}

/**
 * What is left of a reply once the model has thought, as Gemini 2.5 Flash does: unless the request
 * sets `thinkingBudget: 0` it spends thinking tokens first (at most a positive budget), and they
 * count against `maxOutputTokens`. When thinking uses the whole limit there is no text at all and
 * `finishReason` is MAX_TOKENS (the real API's answer to a classifier asking for 5 tokens); when it
 * leaves less than the reply needs, the text is cut (about 4 characters a token).
 */
function afterThinking(call: ParsedCall, reply: string, replyTokens: number, thinkingTokens: number): { text: string; output: number; thoughts: number; finishReason: string } {
  const budget = call.thinkingBudget;
  const wanted = budget === 0 ? 0 : budget !== null && budget > 0 ? Math.min(budget, thinkingTokens) : thinkingTokens;
  const limit = call.maxOutputTokens ?? Infinity;
  const thoughts = Math.min(wanted, limit);
  const room = limit - thoughts;
  if (replyTokens <= room) return { text: reply, output: replyTokens, thoughts, finishReason: 'STOP' };
  const text = Array.from(reply).slice(0, room * 4).join('');
  return { text, output: room, thoughts, finishReason: 'MAX_TOKENS' };
}

/** Gemini API generateContent (`POST /{v1,v1beta}/models/{model}:generateContent`, x-goog-api-key). */
export const geminiDialect: ProviderDialect = {
  provider: 'gemini',
  sdkBasePath: '',
  matchRoute(method, url) {
    const match = method === 'POST' ? ROUTE.exec(url.pathname) : null;
    const model = match?.[2];
    return model === undefined ? null : { model: decodeURIComponent(model) };
  },
  apiKey(headers, url) {
    // The SDK sends the header; `?key=` is the older REST form and still accepted by Google.
    return firstHeader(headers['x-goog-api-key']) ?? (url.searchParams.get('key') || null);
  },
  parse: parseGenerate,
  errorBody: (status, message) => googleError(status, message),
  statusMessage: (status) => STATUS_MESSAGES[status],
  quotaBody: quotaError,
  missingKey() {
    return { status: 403, body: googleError(403, "Method doesn't allow unregistered callers.") };
  },
  invalidKey() {
    // Google answers a wrong key with 400 and the reason in an ErrorInfo detail, not with 401.
    return {
      status: 400,
      body: googleError(400, 'API key not valid. Please pass a valid API key.', [
        { '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason: 'API_KEY_INVALID', domain: 'googleapis.com' },
      ]),
    };
  },
  successBody(call, reply, usage, seq, config) {
    const answer = afterThinking(call, reply, usage.output, config.thinkingTokens);
    const thoughts = usage.reasoning + answer.thoughts;
    return {
      candidates: [{ content: answer.text === '' ? { role: 'model' } : { role: 'model', parts: [{ text: answer.text }] }, finishReason: answer.finishReason, index: 0 }],
      usageMetadata: {
        promptTokenCount: usage.input,
        // Gemini reports thoughts separately from candidates; the total includes both.
        candidatesTokenCount: answer.output,
        totalTokenCount: usage.input + answer.output + thoughts,
        cachedContentTokenCount: usage.cached,
        thoughtsTokenCount: thoughts,
      },
      modelVersion: call.model,
      responseId: `mock-${seq}`,
    };
  },
};
