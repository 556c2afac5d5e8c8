import type { ApiRoute, ParsedCall, ProviderDialect } from './dialect';
import { emptyCall, firstHeader, isRecord, numberOrNull } from './dialect';
import type { MockReceivedMessage } from './types';

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
  return {
    model,
    system,
    messages,
    maxOutputTokens: numberOrNull(generation['maxOutputTokens']),
    temperature: numberOrNull(generation['temperature']),
    invalid: null,
  };
}

function googleError(status: number, message: string, details: unknown[] = []) {
  return { error: { code: status, message, status: grpcStatus(status), details } };
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
  successBody(call, reply, usage, seq) {
    return {
      candidates: [{ content: { role: 'model', parts: [{ text: reply }] }, finishReason: 'STOP', index: 0 }],
      usageMetadata: {
        promptTokenCount: usage.input,
        // Gemini reports thoughts separately from candidates; the total includes both.
        candidatesTokenCount: usage.output,
        totalTokenCount: usage.input + usage.output + usage.reasoning,
        cachedContentTokenCount: usage.cached,
        thoughtsTokenCount: usage.reasoning,
      },
      modelVersion: call.model,
      responseId: `mock-${seq}`,
    };
  },
};
