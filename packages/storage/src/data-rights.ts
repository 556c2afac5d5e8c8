import type { Db, Document } from 'mongodb';
import type { Vault } from '@inner-talk/vault';
import { auditEntriesFor } from './audit';
import { openFieldsOf, PERSONAL_COLLECTIONS, type PersonalCollection } from './personal-data';

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/** A person's data as a plain JSON-serializable object (what `/export` sends as a file). */
export interface UserDataExport {
  format: 'inner-talk.user-data';
  version: 1;
  userId: string;
  /** ISO 8601. */
  exportedAt: string;
  /** Every registered collection by name, each document once, oldest first (by its time field, then `_id`); `[]` when there is none. */
  collections: Record<string, Array<{ [key: string]: JsonValue }>>;
  /** Audit entries about the person or made by them (who read, exported or deleted their data, and when), oldest first. */
  audit: Array<{ [key: string]: JsonValue }>;
}

/**
 * Every document of `userId` in every collection of {@link PERSONAL_COLLECTIONS}, and the audit
 * entries about them or made by them ({@link auditEntriesFor}), with sealed fields
 * opened (`sealedJsonFields` parsed) and BSON values made plain JSON: dates as ISO 8601 strings, ObjectIds as hex, binary as
 * base64, 64-bit and decimal numbers as strings.
 *
 * Guarantees: complete or an error. If a sealed field cannot be opened it throws
 * SealedFieldUnreadableError instead of leaving the field out or returning ciphertext. Collections
 * are read one after another, not as one snapshot: a message written during the export may or may
 * not be in it. Read-only; the caller records the access with `recordAudit`.
 */
export async function exportUserData(
  db: Db,
  vault: Vault,
  userId: string,
  options: { now?: Date; collections?: readonly PersonalCollection[] } = {},
): Promise<UserDataExport> {
  const collections: UserDataExport['collections'] = {};
  const registry: readonly PersonalCollection[] = options.collections ?? PERSONAL_COLLECTIONS;
  for (const collection of registry) {
    const order = collection.timeField ? { [collection.timeField]: 1, _id: 1 } : { _id: 1 };
    const docs = await db.collection(collection.name).find({ [collection.userIdField]: userId }).sort(order as Record<string, 1>).toArray();
    collections[collection.name] = docs.map((doc) => {
      const opened: Document = openFieldsOf(vault, collection, doc);
      for (const field of collection.sealedJsonFields ?? []) {
        if (typeof opened[field] === 'string') opened[field] = parseJsonOr(opened[field] as string);
      }
      return toJson(opened) as { [key: string]: JsonValue };
    });
  }
  const audit = (await auditEntriesFor(db, userId)).map((entry) => toJson(entry) as { [key: string]: JsonValue });
  return { format: 'inner-talk.user-data', version: 1, userId, exportedAt: (options.now ?? new Date()).toISOString(), collections, audit };
}

/**
 * Deletes every document of `userId` from every collection of {@link PERSONAL_COLLECTIONS} and
 * returns how many went from each (every registered collection is listed, 0 included).
 *
 * Guarantees: idempotent (a second call deletes nothing and succeeds); after an interruption a new
 * call finishes the job. The user document goes last, so while it exists a forget is unfinished.
 * The audit log is kept (see RETAINED_COLLECTIONS). It does not stop writes that race with it: the
 * caller first stops the person's queued work and cached context (Redis), then calls this.
 */
export async function forgetUserData(db: Db, userId: string, options: { collections?: readonly PersonalCollection[] } = {}): Promise<Record<string, number>> {
  const deleted: Record<string, number> = {};
  for (const collection of [...(options.collections ?? PERSONAL_COLLECTIONS)].reverse()) {
    const result = await db.collection(collection.name).deleteMany({ [collection.userIdField]: userId });
    deleted[collection.name] = result.deletedCount;
  }
  return deleted;
}

function parseJsonOr(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

/** BSON values (as the driver returns them) → plain JSON values. */
function toJson(value: unknown): JsonValue {
  if (value === null || value === undefined) return null;
  if (typeof value === 'string' || typeof value === 'boolean') return value;
  if (typeof value === 'number') return Number.isFinite(value) ? value : String(value);
  if (typeof value === 'bigint') return value.toString();
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return value.map(toJson);
  const bson = (value as { _bsontype?: string })._bsontype;
  if (bson !== undefined) {
    if (bson === 'ObjectId') return (value as { toHexString(): string }).toHexString();
    if (bson === 'Binary') return (value as { toString(encoding: 'base64'): string }).toString('base64');
    if (bson === 'Long' || bson === 'Decimal128' || bson === 'Timestamp') return String(value);
    if (bson === 'Double' || bson === 'Int32') return Number((value as { valueOf(): number }).valueOf());
    return JSON.parse(JSON.stringify(value)) as JsonValue; // remaining rare types: their own toJSON
  }
  const out: { [key: string]: JsonValue } = {};
  for (const [key, item] of Object.entries(value as Document)) {
    if (item !== undefined) out[key] = toJson(item);
  }
  return out;
}
