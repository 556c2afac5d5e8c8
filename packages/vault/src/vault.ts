import { createCipheriv, createDecipheriv, createHmac, createSecretKey, hkdfSync, randomBytes, type KeyObject } from 'node:crypto';
import { VaultKeyringError, VaultKeyUnknownError, VaultTamperedError } from './errors';

/** Key ids: short, and free of `.` so the sealed format splits unambiguously. Not secret. */
export const KEY_ID_PATTERN = /^[A-Za-z0-9_-]{1,24}$/;
/** AES-256 needs exactly 32 bytes of key. */
export const KEY_BYTES = 32;

// v2 pads the plaintext to a size bucket before sealing (see paddedLength); v1 did not, so its
// ciphertext was as long as the text. v1 values still open; rotation re-seals them as v2.
const VERSION = 'v2';
type FormatVersion = 'v1' | 'v2';
// 96-bit IVs are GCM's native size (no extra GHASH step); NIST SP 800-38D caps random IVs at 2^32
// seals per key, which is one reason keys rotate.
const IV_BYTES = 12;
const TAG_BYTES = 16;
// v<1|2>.<kid>.<iv: 16 chars>.<tag: 22 chars>.<ciphertext: any length in v1 (empty for ""), a bucket size in v2>
const SEALED_FORMAT = /^(v[12])\.([A-Za-z0-9_-]{1,24})\.([A-Za-z0-9_-]{16})\.([A-Za-z0-9_-]{22})\.([A-Za-z0-9_-]*)$/;
// Marks the end of the text inside a padded plaintext (ISO/IEC 7816-4 padding: 0x80, then zeros).
const PAD_MARK = 0x80;
// Buckets double from 32 bytes up to 4 KiB, then grow in 4 KiB steps. Short values (a risk level,
// a questionnaire score with its band and item-9 flag, a list of answers) all land in the 32- or
// 64-byte bucket, so their length says nothing about which value it is; a message text reveals its
// size only to within a factor of two (a Telegram message is at most 4096 characters), and past
// 4 KiB steps keep the overhead of long texts (summaries) below 4 KiB instead of doubling them.
const SMALLEST_BUCKET = 32;
const LARGEST_DOUBLING_BUCKET = 4096;

/** Keys by id, as the constructor takes them. */
export type KeyMaterial = ReadonlyMap<string, Uint8Array> | Readonly<Record<string, Uint8Array>>;

export interface VaultOptions {
  /** Every key that may still have sealed something (old ones are kept until rotation has run). */
  keys: KeyMaterial;
  /** The key new values are sealed with. */
  currentKeyId: string;
}

interface ParsedSealed {
  version: FormatVersion;
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
 * Sealed format: `v2.<key id>.<iv>.<tag>.<ciphertext>` (base64url, no padding), ASCII only, so it
 * can be stored and compared as an ordinary string. Every seal draws a fresh random 96-bit IV, so
 * sealing the same text twice gives different values. The version and key id are authenticated
 * together with the optional associated data (AAD): a value sealed for one record (e.g.
 * `messages|<_id>|text`) does not open for another, so swapping ciphertexts between records is
 * detected. Omitted AAD and empty AAD are the same thing.
 *
 * The plaintext is padded to a size bucket before encryption (see {@link paddedLength}), inside the
 * authenticated ciphertext, so the length of a sealed value tells only its bucket, and changed
 * padding fails authentication like any other change. Values of the older unpadded format `v1`
 * still open and count as needing rotation.
 *
 * Keys are held as `KeyObject`s in a private field: neither `JSON.stringify`, `util.inspect` nor
 * any error message of the vault shows key material.
 */
export class Vault {
  readonly currentKeyId: string;
  readonly #keys: Map<string, KeyObject>;
  // Derived pseudonym keys by `<key id>|<purpose>`: HKDF once per process, not once per message.
  readonly #pseudonymKeys = new Map<string, KeyObject>();

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
    const ciphertext = Buffer.concat([cipher.update(pad(Buffer.from(plain, 'utf8'))), cipher.final()]);
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
    let plain: Buffer;
    try {
      plain = Buffer.concat([decipher.update(parsed.ciphertext), decipher.final()]);
    } catch {
      throw new VaultTamperedError('authentication');
    }
    return (parsed.version === 'v1' ? plain : unpad(plain)).toString('utf8');
  }

  /**
   * A keyed pseudonym of `value` for `purpose` (e.g. `chat`): HMAC-SHA256 under a key derived with
   * HKDF-SHA256 from key `keyId` (default the current key) and the purpose, truncated to 128 bits,
   * base64url (22 characters). The same value, purpose and key give the same pseudonym in every
   * process; without the key it cannot be linked back to the value, and different purposes give
   * unrelated pseudonyms. Key material never leaves the vault. Throws VaultKeyUnknownError for an
   * id not in the ring.
   */
  pseudonym(value: string, purpose: string, keyId = this.currentKeyId): string {
    const cacheKey = `${keyId}|${purpose}`;
    let derived = this.#pseudonymKeys.get(cacheKey);
    if (!derived) {
      const key = this.#keys.get(keyId);
      if (!key) throw new VaultKeyUnknownError(keyId);
      derived = createSecretKey(Buffer.from(hkdfSync('sha256', key.export(), Buffer.alloc(0), `inner-talk pseudonym|${purpose}`, 32)));
      this.#pseudonymKeys.set(cacheKey, derived);
    }
    return createHmac('sha256', derived).update(value, 'utf8').digest().subarray(0, 16).toString('base64url');
  }

  /**
   * Pseudonyms of `value` for `purpose` under every key of the ring, the current key's first: what
   * a value may have been named by before the current key took over (see {@link pseudonym}).
   */
  pseudonyms(value: string, purpose: string): string[] {
    return [this.currentKeyId, ...this.keyIds.filter((id) => id !== this.currentKeyId)].map((id) => this.pseudonym(value, purpose, id));
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

  /** Whether `sealed` was sealed under a key other than the current one, or in an older format. Throws like `keyIdOf`. */
  needsRotation(sealed: string): boolean {
    const parsed = parse(sealed);
    return parsed.keyId !== this.currentKeyId || parsed.version !== VERSION;
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
  const [, version, keyId, ivText, tagText, ciphertextText] = match as unknown as [string, FormatVersion, string, string, string, string];
  const iv = decodeStrict(ivText);
  const tag = decodeStrict(tagText);
  const ciphertext = decodeStrict(ciphertextText);
  if (!iv || iv.length !== IV_BYTES || !tag || tag.length !== TAG_BYTES || !ciphertext) throw new VaultTamperedError('malformed');
  return { version, keyId, header: `${version}.${keyId}`, iv, tag, ciphertext };
}

/**
 * The size a plaintext of `length` bytes is padded to: the smallest bucket that holds it and the
 * pad mark (at least one byte of padding, so the end of the text is always marked).
 */
export function paddedLength(length: number): number {
  const needed = length + 1;
  if (needed > LARGEST_DOUBLING_BUCKET) return Math.ceil(needed / LARGEST_DOUBLING_BUCKET) * LARGEST_DOUBLING_BUCKET;
  let bucket = SMALLEST_BUCKET;
  while (bucket < needed) bucket *= 2;
  return bucket;
}

function pad(plain: Buffer): Buffer {
  const padded = Buffer.alloc(paddedLength(plain.length));
  plain.copy(padded);
  padded[plain.length] = PAD_MARK;
  return padded;
}

function unpad(padded: Buffer): Buffer {
  let end = padded.length - 1;
  while (end >= 0 && padded[end] === 0) end -= 1;
  // Authenticated, so only a sealing bug could get here; still never return a wrong text.
  if (end < 0 || padded[end] !== PAD_MARK || padded.length !== paddedLength(end)) throw new VaultTamperedError('malformed');
  return padded.subarray(0, end);
}
