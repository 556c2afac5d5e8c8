import type { ApiRoute, ParsedCall, ProviderDialect } from './dialect';
import { emptyCall, firstHeader, isRecord, numberOrNull, type QuotaInfo } from './dialect';
import type { MockQuotaScope, MockReceivedMessage } from './types';

const SYSTEM_ROLES = new Set(['system', 'developer']);
const ROLES = new Set(['system', 'developer', 'user', 'assistant', 'tool']);

// OpenAI's error `type` per status, as its API sends them.
function errorType(status: number): string {
  if (status === 429) return 'requests';
  if (status >= 500) return 'server_error';
  return 'invalid_request_error';
}

function errorCode(status: number): string | null {
  if (status === 401) return 'invalid_api_key';
  if (status === 429) return 'rate_limit_exceeded';
  return null;
}

// Messages the OpenAI API sends with these statuses.
const STATUS_MESSAGES: Record<number, string> = {
  500: 'The server had an error while processing your request. Sorry about that!',
  503: 'The server is overloaded or not ready yet.',
};

/** "20ms", "1s", "2.5s": the way OpenAI's rate-limit messages and reset headers write durations. */
function openaiDuration(ms: number): string {
  return ms < 1000 ? `${ms}ms` : `${Number((ms / 1000).toFixed(3))}s`;
}

/**
 * 'minute': the requests-per-minute rate limit (`rate_limit_exceeded`, retryable);
 * 'day': `insufficient_quota`, which OpenAI sends when credit or the monthly budget is used up.
 */
function quotaError(scope: MockQuotaScope, { model, retryAfterMs }: QuotaInfo) {
  if (scope === 'day') {
    return {
      error: {
        message:
          'You exceeded your current quota, please check your plan and billing details. For more information on ' +
          'this error, read the docs: https://platform.openai.com/docs/guides/error-codes/api-errors.',
        type: 'insufficient_quota',
        param: null,
        code: 'insufficient_quota',
      },
    };
  }
  return {
    error: {
      message:
        `Rate limit reached for ${model ?? 'this model'} in organization org-mock on requests per min (RPM): ` +
        `Limit 60, Used 60, Requested 1. Please try again in ${openaiDuration(retryAfterMs)}. ` +
        'Visit https://platform.openai.com/account/rate-limits to learn more.',
      type: 'requests',
      param: null,
      code: 'rate_limit_exceeded',
    },
  };
}

/** Content is a string or an array of parts; only text parts matter to the mock. */
function contentText(content: unknown): string | null {
  if (typeof content === 'string') return content;
  if (content === null || content === undefined) return '';
  if (!Array.isArray(content)) return null;
  const texts: string[] = [];
  for (const part of content) {
    if (!isRecord(part)) return null;
    if (part['type'] === 'text' && typeof part['text'] === 'string') texts.push(part['text']);
  }
  return texts.join('');
}

function parseChat(body: unknown): ParsedCall {
  if (!isRecord(body)) return emptyCall('We could not parse the JSON body of your request.');
  const model = typeof body['model'] === 'string' && body['model'] !== '' ? body['model'] : null;
  if (model === null) return emptyCall("you must provide a model parameter");
  if (body['stream'] === true) return emptyCall('the mock does not support stream: true', model);
  const raw = body['messages'];
  if (!Array.isArray(raw) || raw.length === 0) return emptyCall("'messages' must be a non-empty array", model);
  const system: string[] = [];
  const messages: MockReceivedMessage[] = [];
  for (const [i, m] of raw.entries()) {
    const role = isRecord(m) ? m['role'] : undefined;
    const text = isRecord(m) ? contentText(m['content']) : null;
    if (typeof role !== 'string' || !ROLES.has(role)) return emptyCall(`Invalid value for 'messages[${i}].role'`, model);
    if (text === null) return emptyCall(`Invalid value for 'messages[${i}].content'`, model);
    if (SYSTEM_ROLES.has(role)) system.push(text);
    else messages.push({ role, text });
  }
  return {
    model,
    system: system.length > 0 ? system.join('\n') : null,
    messages,
    maxOutputTokens: numberOrNull(body['max_completion_tokens']) ?? numberOrNull(body['max_tokens']),
    thinkingBudget: null,
    temperature: numberOrNull(body['temperature']),
    invalid: null,
  };
}

/** OpenAI Chat Completions (`POST /v1/chat/completions`, bearer key, `{error:{message,type,code}}`). */
export const openaiDialect: ProviderDialect = {
  provider: 'openai',
  sdkBasePath: '/v1',
  matchRoute(method: string, url: URL): ApiRoute | null {
    return method === 'POST' && url.pathname === '/v1/chat/completions' ? { model: null } : null;
  },
  apiKey(headers) {
    const auth = firstHeader(headers.authorization);
    const match = auth === null ? null : /^Bearer\s+(.+)$/i.exec(auth);
    return match?.[1] ?? null;
  },
  parse: (body) => parseChat(body),
  errorBody(status, message) {
    return { error: { message, type: errorType(status), param: null, code: errorCode(status) } };
  },
  statusMessage: (status) => STATUS_MESSAGES[status],
  quotaBody: quotaError,
  missingKey() {
    return {
      status: 401,
      body: { error: { message: "You didn't provide an API key.", type: 'invalid_request_error', param: null, code: null } },
    };
  },
  invalidKey() {
    return {
      status: 401,
      body: { error: { message: 'Incorrect API key provided.', type: 'invalid_request_error', param: null, code: 'invalid_api_key' } },
    };
  },
  successBody(call, reply, usage, seq) {
    return {
      id: `chatcmpl-mock-${seq}`,
      object: 'chat.completion',
      created: Math.floor(Date.now() / 1000),
      model: call.model,
      choices: [
        {
          index: 0,
          message: { role: 'assistant', content: reply, refusal: null, annotations: [] },
          logprobs: null,
          finish_reason: 'stop',
        },
      ],
      usage: {
        prompt_tokens: usage.input,
        // OpenAI counts reasoning inside completion tokens.
        completion_tokens: usage.output + usage.reasoning,
        total_tokens: usage.input + usage.output + usage.reasoning,
        prompt_tokens_details: { cached_tokens: usage.cached, audio_tokens: 0 },
        completion_tokens_details: {
          reasoning_tokens: usage.reasoning,
          audio_tokens: 0,
          accepted_prediction_tokens: 0,
          rejected_prediction_tokens: 0,
        },
      },
      service_tier: 'default',
      system_fingerprint: null,
    };
  },
};
