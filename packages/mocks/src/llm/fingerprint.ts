import { createHash } from 'node:crypto';

/**
 * A short stable name for an API key so stats and logs can tell keys apart without holding them.
 * Guarantees: the same key always gives the same fingerprint; the key cannot be read back from it.
 */
export function apiKeyFingerprint(apiKey: string): string {
  return `key-${createHash('sha256').update(apiKey).digest('hex').slice(0, 12)}`;
}
