// AES-256-GCM encryption at rest with key ids and rotation. Import through this index.
export { Vault, KEY_BYTES, KEY_ID_PATTERN, paddedLength } from './vault';
export type { KeyMaterial, VaultOptions } from './vault';
export { parseKeyring } from './keyring';
export { VaultError, VaultKeyUnknownError, VaultTamperedError, VaultKeyringError } from './errors';
export type { KeyringProblem } from './errors';
