/**
 * Errors of the vault. Callers decide by class (and the `problem`/`reason` codes), never by message.
 * No message or property of these errors ever holds key material or plaintext.
 */

/** Base class, so a caller can catch every vault failure at once. */
export class VaultError extends Error {
  override readonly name: string = 'VaultError';
}

/**
 * A sealed value names a key id that is not in the keyring: the key was retired too early, or the
 * value belongs to another deployment. The value itself may well be intact.
 */
export class VaultKeyUnknownError extends VaultError {
  override readonly name = 'VaultKeyUnknownError';
  constructor(readonly keyId: string) {
    super(`sealed with key id "${keyId}", which is not in the keyring`);
  }
}

/**
 * A value could not be opened: it is not in the sealed format (`malformed`), or the GCM
 * authentication failed (`authentication`) because the ciphertext, tag, IV or associated data was
 * changed, or the value was sealed under a different key with the same id.
 */
export class VaultTamperedError extends VaultError {
  override readonly name = 'VaultTamperedError';
  constructor(readonly reason: 'malformed' | 'authentication') {
    super(reason === 'malformed' ? 'value is not a sealed value' : 'sealed value failed authentication (changed, or bound to another record)');
  }
}

/** What is wrong with a keyring. */
export type KeyringProblem = 'empty' | 'entry_format' | 'key_id' | 'key_length' | 'duplicate_id' | 'current_unknown';

/**
 * A keyring (from the environment or the constructor) is unusable. `entry` is the 1-based position
 * of the offending `id:key` entry where there is one; `keyId` is set only for ids that passed the
 * id pattern (an id is not secret, but a malformed "id" might be a pasted key).
 */
export class VaultKeyringError extends VaultError {
  override readonly name = 'VaultKeyringError';
  constructor(
    readonly problem: KeyringProblem,
    message: string,
    readonly entry?: number,
    readonly keyId?: string,
  ) {
    super(message);
  }
}
