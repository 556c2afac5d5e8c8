import { ProviderError } from './errors';

/**
 * Both SDKs treat an empty key differently (openai throws its own error, genai warns on the console and
 * sends no key); refuse it the same way for both, as a typed error.
 */
export function assertApiKey(provider: string, apiKey: string): void {
  if (apiKey === '') throw new ProviderError(provider, 'auth', `${provider}: no API key configured`);
}

/** A usable timeout is a positive finite number of milliseconds; anything else is our bug, not the provider's. */
export function assertTimeout(provider: string, timeoutMs: number): void {
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) {
    throw new ProviderError(provider, 'bad_request', `${provider}: timeoutMs must be a positive number`);
  }
}
