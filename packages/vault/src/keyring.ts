import { VaultKeyringError } from './errors';
import { KEY_BYTES, KEY_ID_PATTERN } from './vault';

const BASE64_TEXT = /^[A-Za-z0-9+/_-]+={0,2}$/;

/**
 * Reads a keyring spec `id1:<base64 key>,id2:<base64 key>` (standard or URL-safe base64 of 32 bytes,
 * e.g. from `openssl rand -base64 32`; spaces around entries and a trailing comma are ignored) into
 * the options `new Vault(…)` takes. The current key is `currentKeyId` if given, else the first entry.
 *
 * Throws VaultKeyringError (`problem` says what is wrong, `entry` where). Messages name entries by
 * position and ids only when they passed the id pattern; key material never appears.
 */
export function parseKeyring(spec: string, currentKeyId?: string): { keys: Map<string, Buffer>; currentKeyId: string } {
  const keys = new Map<string, Buffer>();
  const entries = spec
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '');
  if (entries.length === 0) throw new VaultKeyringError('empty', 'the keyring holds no keys');
  entries.forEach((entry, index) => {
    const position = index + 1;
    const colon = entry.indexOf(':');
    if (colon < 0) throw new VaultKeyringError('entry_format', `entry ${position}: expected <key id>:<base64 key>`, position);
    const keyId = entry.slice(0, colon).trim();
    const keyText = entry.slice(colon + 1).trim();
    if (!KEY_ID_PATTERN.test(keyId)) {
      throw new VaultKeyringError('key_id', `entry ${position}: key id must be 1–24 letters, digits, _ or -`, position);
    }
    // Node's base64 decoder takes the URL-safe alphabet too, so either form of key works.
    const key = BASE64_TEXT.test(keyText) ? Buffer.from(keyText, 'base64') : undefined;
    if (!key || key.length !== KEY_BYTES) {
      throw new VaultKeyringError(
        'key_length',
        `entry ${position} (key id "${keyId}"): key must be ${KEY_BYTES} bytes in base64 (44 characters; make one with: openssl rand -base64 32)`,
        position,
        keyId,
      );
    }
    if (keys.has(keyId)) throw new VaultKeyringError('duplicate_id', `entry ${position}: key id "${keyId}" appears twice`, position, keyId);
    keys.set(keyId, key);
  });
  const current = currentKeyId ?? (keys.keys().next().value as string);
  if (!KEY_ID_PATTERN.test(current)) throw new VaultKeyringError('key_id', 'the current key id must be 1–24 letters, digits, _ or -');
  if (!keys.has(current)) {
    throw new VaultKeyringError('current_unknown', `the current key id "${current}" is not in the keyring (ids: ${[...keys.keys()].join(', ')})`, undefined, current);
  }
  return { keys, currentKeyId: current };
}
