import { z } from 'zod';
import { ConfigError, parseEnv } from './env';

// The same rules as @inner-talk/vault's parseKeyring (this package stays free of workspace
// dependencies); both are tested against the same cases.
const KEY_ID = /^[A-Za-z0-9_-]{1,24}$/;
const KEY_ID_RULE = 'key ids must be 1–24 letters, digits, _ or -';
const BASE64_TEXT = /^[A-Za-z0-9+/_-]+={0,2}$/;
const KEY_BYTES = 32;

/** `id1:<base64 key>,id2:<base64 key>` → keys by id, in the order given. Issues name entries by position, never echo a key. */
const keyringSpec = z.string().transform((spec, ctx): Map<string, Buffer> => {
  const keys = new Map<string, Buffer>();
  const entries = spec
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '');
  const problem = (message: string) => {
    ctx.addIssue({ code: 'custom', message });
    return z.NEVER;
  };
  if (entries.length === 0) return problem('must hold at least one <key id>:<base64 key>');
  for (const [index, entry] of entries.entries()) {
    const position = index + 1;
    const colon = entry.indexOf(':');
    if (colon < 0) return problem(`entry ${position}: expected <key id>:<base64 key>`);
    const keyId = entry.slice(0, colon).trim();
    const keyText = entry.slice(colon + 1).trim();
    if (!KEY_ID.test(keyId)) return problem(`entry ${position}: ${KEY_ID_RULE}`);
    const key = BASE64_TEXT.test(keyText) ? Buffer.from(keyText, 'base64') : undefined;
    if (!key || key.length !== KEY_BYTES) {
      return problem(`entry ${position} (key id "${keyId}"): key must be ${KEY_BYTES} bytes in base64 (44 characters; make one with: openssl rand -base64 32)`);
    }
    if (keys.has(keyId)) return problem(`entry ${position}: key id "${keyId}" appears twice`);
    keys.set(keyId, key);
  }
  return keys;
});

/**
 * The encryption-at-rest variables, to parse with {@link parseDataEncryptionEnv} (which also checks
 * that the current key id is in the ring):
 * - `DATA_ENCRYPTION_KEYS` (required): `id:<base64 of 32 bytes>,…`, every key that may still have
 *   sealed stored data;
 * - `DATA_ENCRYPTION_KEY_ID` (optional): the key new data is sealed with; default the first id.
 */
export const dataEncryptionEnv = z.object({
  DATA_ENCRYPTION_KEYS: keyringSpec,
  DATA_ENCRYPTION_KEY_ID: z.string().regex(KEY_ID, `must be a key id (${KEY_ID_RULE})`).optional(),
});

/** The keyring as `new Vault(…)` from @inner-talk/vault takes it. */
export interface DataEncryptionConfig {
  keys: Map<string, Buffer>;
  currentKeyId: string;
}

/**
 * Reads `DATA_ENCRYPTION_KEYS` and `DATA_ENCRYPTION_KEY_ID` from `env` once, at start-up.
 * Throws ConfigError for `app` naming each bad variable; key material never appears in it.
 */
export function parseDataEncryptionEnv(env: NodeJS.ProcessEnv, app: string): DataEncryptionConfig {
  const parsed = parseEnv(app, dataEncryptionEnv, env);
  const ids = [...parsed.DATA_ENCRYPTION_KEYS.keys()];
  const currentKeyId = parsed.DATA_ENCRYPTION_KEY_ID ?? (ids[0] as string);
  if (!parsed.DATA_ENCRYPTION_KEYS.has(currentKeyId)) {
    throw new ConfigError(app, [`DATA_ENCRYPTION_KEY_ID: names no key of DATA_ENCRYPTION_KEYS (its ids: ${ids.join(', ')})`]);
  }
  return { keys: parsed.DATA_ENCRYPTION_KEYS, currentKeyId };
}
