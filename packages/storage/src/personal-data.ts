import { BSON } from 'mongodb';
import { VaultError, type Vault } from '@inner-talk/vault';

/** A MongoDB collection that holds a person's data. */
export interface PersonalCollection {
  /** Collection name. */
  readonly name: string;
  /** Field holding the owner's user id (`_id` for the users collection itself). */
  readonly userIdField: string;
  /**
   * Top-level fields stored sealed by the vault (string values; serialize anything else to a string
   * first), each bound to its record with the associated data `<collection>|<_id>` ({@link recordAad}).
   */
  readonly sealedFields: readonly string[];
  /** Those of `sealedFields` whose plaintext is JSON: an export shows them parsed. */
  readonly sealedJsonFields?: readonly string[];
  /** The time field an export orders documents by (then `_id`); by `_id` alone when absent. */
  readonly timeField?: string;
}

/**
 * Every collection with personal data. Export, forget and key rotation work from this list alone, so
 * a new store adds its collection here (one entry) and seals/opens its documents with
 * {@link sealFields}/{@link openFields}. Forget deletes in reverse order, so the `users` document,
 * first here, goes last: while it exists, a forget has not finished.
 */
export const PERSONAL_COLLECTIONS = [
  { name: 'users', userIdField: '_id', sealedFields: [] },
  { name: 'messages', userIdField: 'userId', sealedFields: ['text'], timeField: 'at' },
  { name: 'risk_events', userIdField: 'userId', sealedFields: ['level', 'sources'], sealedJsonFields: ['sources'], timeField: 'at' },
  { name: 'consents', userIdField: 'userId', sealedFields: [] },
  { name: 'assessments', userIdField: 'userId', sealedFields: ['answers', 'result'], sealedJsonFields: ['answers', 'result'], timeField: 'startedAt' },
  { name: 'sessions', userIdField: 'userId', sealedFields: ['summary', 'recent'], sealedJsonFields: ['recent'], timeField: 'startedAt' },
  { name: 'session_heads', userIdField: '_id', sealedFields: [] },
  { name: 'assessment_heads', userIdField: '_id', sealedFields: [] },
] as const satisfies readonly PersonalCollection[];

export type PersonalCollectionName = (typeof PERSONAL_COLLECTIONS)[number]['name'];

/**
 * Collections that mention a user but are kept by forget, and why. Tests that scan the database for
 * a forgotten user skip exactly these.
 */
export const RETAINED_COLLECTIONS: readonly { name: string; reason: string }[] = [
  {
    name: 'audit_log',
    reason:
      'who accessed, exported or deleted whose data, and when: ids and outcomes only, never text; kept as proof that a deletion was done',
  },
];

/** A sealed field could not be opened (tampered, or sealed under a key the ring no longer holds). */
export class SealedFieldUnreadableError extends Error {
  override readonly name = 'SealedFieldUnreadableError';
  constructor(
    readonly collection: string,
    readonly documentId: string,
    readonly field: string,
    override readonly cause: VaultError,
  ) {
    super(`${collection} ${documentId}: field ${field} cannot be opened (${cause.name})`);
  }
}

export function personalCollection(name: PersonalCollectionName): PersonalCollection {
  return PERSONAL_COLLECTIONS.find((c) => c.name === name) as PersonalCollection;
}

/** A document id as text, for associated data and error context. */
export function idText(id: unknown): string {
  return typeof id === 'string' ? id : BSON.EJSON.stringify(id as BSON.Document, { relaxed: false });
}

/**
 * Associated data that binds a sealed value to its record: `<collection>|<_id>`. A value copied to
 * another record or collection no longer opens. (Fields of one record share it, so swapping two
 * sealed fields within one record is not detected; both belong to the same person and record.)
 */
export function recordAad(collection: string, id: unknown): string {
  return `${collection}|${idText(id)}`;
}

/**
 * A copy of `doc` with the collection's sealed fields sealed under the vault's current key. Fields
 * that are absent, null or not strings are left as they are. `doc._id` must be final: it is part of
 * the associated data.
 */
export function sealFields<T extends { _id: unknown }>(vault: Vault, collection: PersonalCollectionName, doc: T): T {
  const copy: Record<string, unknown> = { ...doc };
  for (const field of personalCollection(collection).sealedFields) {
    const value = copy[field];
    if (typeof value === 'string') copy[field] = vault.seal(value, recordAad(collection, doc._id));
  }
  return copy as T;
}

/**
 * A copy of `doc` with the collection's sealed fields opened. A string that is not in the sealed
 * format is plaintext written before encryption existed and is returned as it is (key rotation seals
 * it). Throws SealedFieldUnreadableError when a sealed value does not open.
 */
export function openFields<T extends { _id: unknown }>(vault: Vault, collection: PersonalCollectionName, doc: T): T {
  return openFieldsOf(vault, personalCollection(collection), doc);
}

export function openFieldsOf<T extends { _id: unknown }>(vault: Vault, collection: PersonalCollection, doc: T): T {
  const copy: Record<string, unknown> = { ...doc };
  for (const field of collection.sealedFields) {
    const value = copy[field];
    if (!vault.isSealed(value)) continue;
    try {
      copy[field] = vault.open(value, recordAad(collection.name, doc._id));
    } catch (error) {
      if (error instanceof VaultError) throw new SealedFieldUnreadableError(collection.name, idText(doc._id), field, error);
      throw error;
    }
  }
  return copy as T;
}
