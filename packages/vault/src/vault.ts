import { createCipheriv, createDecipheriv, createSecretKey, randomBytes, type KeyObject } from 'node:crypto';
import { VaultKeyringError, VaultKeyUnknownError, VaultTamperedError } from './errors';

/** Key ids: short, and free of `.` so the sealed format splits unambiguously. Not secret. */
export const KEY_ID_PATTERN = /^[A-Za-z0-9_-]{1,24}$/;
/** AES-256 needs exactly 32 bytes of key. */
export const KEY_BYTES = 32;

const VERSION = 'v1';
// 96-bit IVs are GCM's native size (no extra GHASH step); NIST SP 800-38D caps random IVs at 2^32
// seals per key, which is one reason keys rotate.
const IV_BYTES = 12;
const TAG_BYTES = 16;
// v1.<kid>.<iv: 16 chars>.<tag: 22 chars>.<ciphertext: any length, empty for "">
const SEALED_FORMAT = /^v1\.([A-Za-z0-9_-]{1,24})\.([A-Za-z0-9_-]{16})\.([A-Za-z0-9_-]{22})\.([A-Za-z0-9_-]*)$/;

/** Keys by id, as the constructor takes them. */
export type KeyMaterial = ReadonlyMap<string, Uint8Array> | Readonly<Record<string, Uint8Array>>;

export interface VaultOptions {
  /** Every key that may still have sealed something (old ones are kept until rotation has run). */
  keys: KeyMaterial;
  /** The key new values are sealed with. */
  currentKeyId: string;
}

interface ParsedSealed {
  keyId: string;
  header: string;
  iv: Buffer;
  tag: Buffer;
  ciphertext: Buffer;
}

/**
 * Authenticated encryption of short texts (messages, summaries, answers) with AES-256-GCM under a
 * keyring, so keys can rotate without re-encrypting everything at once.
 *
 * Sealed format: `v1.<key id>.<iv>.<tag>.<ciphertext>` (base64url, no padding), ASCII only, so it
 * can be stored and compared as an ordinary string. Every seal draws a fresh random 96-bit IV, so
 * sealing the same text twice gives different values. The version and key id are authenticated
 * together with the optional associated data (AAD): a value sealed for one record (e.g.
 * `messages|<_id>|text`) does not open for another, so swapping ciphertexts between records is
 * detected. Omitted AAD and empty AAD are the same thing.
 *
 * Keys are held as `KeyObject`s in a private field: neither `JSON.stringify`, `util.inspect` nor
 * any error message of the vault shows key material.
 */
export class Vault {
  readonly currentKeyId: string;
  readonly #keys: Map<string, KeyObject>;

  /** Throws VaultKeyringError if the ring is empty, an id or key is malformed, or `currentKeyId` is not in it. */
  constructor(options: VaultOptions) {
    const entries = options.keys instanceof Map ? [...options.keys.entries()] : Object.entries(options.keys as Record<string, Uint8Array>);
    if (entries.length === 0) throw new VaultKeyringError('empty', 'the keyring holds no keys');
    this.#keys = new Map();
    entries.forEach(([keyId, key], index) => {
      if (!KEY_ID_PATTERN.test(keyId)) {
        throw new VaultKeyringError('key_id', `key ${index + 1}: key id must be 1–24 letters, digits, _ or -`, index + 1);
      }
      if (!(key instanceof Uint8Array) || key.byteLength !== KEY_BYTES) {
        throw new VaultKeyringError('key_length', `key "${keyId}" must be exactly ${KEY_BYTES} bytes`, index + 1, keyId);
      }
      this.#keys.set(keyId, createSecretKey(Buffer.from(key)));
    });
    if (!KEY_ID_PATTERN.test(options.currentKeyId)) {
      throw new VaultKeyringError('key_id', 'the current key id must be 1–24 letters, digits, _ or -');
    }
    if (!this.#keys.has(options.currentKeyId)) {
      throw new VaultKeyringError('current_unknown', `the current key id "${options.currentKeyId}" is not in the keyring`, undefined, options.currentKeyId);
    }
    this.currentKeyId = options.currentKeyId;
  }

  /**
   * A vault with one fresh random key (id `local` unless given), for tests and local demos only:
   * the key lives in this process's memory, so what it sealed cannot be opened after the process ends.
   */
  static withRandomKey(keyId = 'local'): Vault {
    return new Vault({ keys: new Map([[keyId, randomBytes(KEY_BYTES)]]), currentKeyId: keyId });
  }

  /** Ids of every key in the ring, in the order given. */
  get keyIds(): string[] {
    return [...this.#keys.keys()];
  }

  /**
   * Encrypts `plain` (UTF-8) under the current key, bound to `aad` if given. Never returns the same
   * value twice. Strings with unpaired surrogates are not valid UTF-16 and come back with U+FFFD.
   */
  seal(plain: string, aad?: string): string {
    if (typeof plain !== 'string') throw new TypeError('Vault.seal takes a string');
    const keyId = this.currentKeyId;
    const header = `${VERSION}.${keyId}`;
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.#keys.get(keyId) as KeyObject, iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(associatedData(header, aad));
    const ciphertext = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
    return `${header}.${iv.toString('base64url')}.${cipher.getAuthTag().toString('base64url')}.${ciphertext.toString('base64url')}`;
  }

  /**
   * Decrypts a value made by `seal` with the same `aad`, under whichever key of the ring sealed it.
   * Throws VaultTamperedError (malformed or failed authentication) or VaultKeyUnknownError.
   */
  open(sealed: string, aad?: string): string {
    const parsed = parse(sealed);
    const key = this.#keys.get(parsed.keyId);
    if (!key) throw new VaultKeyUnknownError(parsed.keyId);
    const decipher = createDecipheriv('aes-256-gcm', key, parsed.iv, { authTagLength: TAG_BYTES });
    decipher.setAAD(associatedData(parsed.header, aad));
    decipher.setAuthTag(parsed.tag);
    try {
      return Buffer.concat([decipher.update(parsed.ciphertext), decipher.final()]).toString('utf8');
    } catch {
      throw new VaultTamperedError('authentication');
    }
  }

  /** The id of the key `sealed` was sealed with. Throws VaultTamperedError('malformed') if it is not a sealed value. */
  keyIdOf(sealed: string): string {
    return parse(sealed).keyId;
  }

  /**
   * Whether `value` has the sealed format (a syntactic check: it says nothing about whether it opens).
   * Plaintext written before encryption existed does not have it.
   */
  isSealed(value: unknown): value is string {
    return typeof value === 'string' && SEALED_FORMAT.test(value);
  }

  /** Whether `sealed` was sealed under a key other than the current one. Throws like `keyIdOf`. */
  needsRotation(sealed: string): boolean {
    return this.keyIdOf(sealed) !== this.currentKeyId;
  }

  toJSON(): { currentKeyId: string; keyIds: string[] } {
    return { currentKeyId: this.currentKeyId, keyIds: this.keyIds };
  }
}

function associatedData(header: string, aad: string | undefined): Buffer {
  // The header is authenticated too; NUL separates it from caller data, which cannot start the header.
  return Buffer.from(`${header}\u0000${aad ?? ''}`, 'utf8');
}

/** Strict base64url: Node's decoder ignores stray characters and non-zero padding bits, so re-encode and compare. */
function decodeStrict(text: string): Buffer | undefined {
  const bytes = Buffer.from(text, 'base64url');
  return bytes.toString('base64url') === text ? bytes : undefined;
}

function parse(sealed: string): ParsedSealed {
  const match = typeof sealed === 'string' ? SEALED_FORMAT.exec(sealed) : null;
  if (!match) throw new VaultTamperedError('malformed');
  const [, keyId, ivText, tagText, ciphertextText] = match as unknown as [string, string, string, string, string];
  const iv = decodeStrict(ivText);
  const tag = decodeStrict(tagText);
  const ciphertext = decodeStrict(ciphertextText);
  if (!iv || iv.length !== IV_BYTES || !tag || tag.length !== TAG_BYTES || !ciphertext) throw new VaultTamperedError('malformed');
  return { keyId, header: `${VERSION}.${keyId}`, iv, tag, ciphertext };
}
