import { randomUUID } from 'node:crypto';
import type { Db } from 'mongodb';

/** The collection of audit entries. Not personal data in the sense of forget: see RETAINED_COLLECTIONS. */
export const AUDIT_COLLECTION = 'audit_log';

/** Context of an audit entry: ids, counts and outcomes only, never message text, tokens or keys. */
export type AuditDetails = Record<string, string | number | boolean | null>;

export interface AuditEntry {
  /** Who acted: `user:<userId>` for the person themself, `admin:<id>`, `operator:cli`, `system`. */
  actor: string;
  /** What happened, dotted: `data.export`, `data.forget`, `admin.read`, `keys.rotate`. */
  action: string;
  /** Whose data (a userId), or null for actions on no one in particular (e.g. key rotation). */
  subject: string | null;
  at: Date;
  details?: AuditDetails;
  /** A deterministic id (e.g. derived from an update id) makes the entry idempotent under retries. */
  id?: string;
}

export interface AuditRecord {
  _id: string;
  actor: string;
  action: string;
  subject: string | null;
  at: Date;
  details?: AuditDetails;
}

/**
 * Appends an entry to the audit log. With `id`, writing the same entry again changes nothing
 * (the first write wins); without, each call adds an entry with a random id.
 */
export async function recordAudit(db: Db, entry: AuditEntry): Promise<void> {
  const { id, ...fields } = entry;
  const record: AuditRecord = { _id: id ?? randomUUID(), ...fields };
  await db.collection<AuditRecord>(AUDIT_COLLECTION).updateOne({ _id: record._id }, { $setOnInsert: record }, { upsert: true });
}

/**
 * Audit entries about `subject` (a userId) or made by them (actor `user:<id>` or `admin:<id>`, e.g. a
 * refused admin command, which is about no one), oldest first, at most `limit` (default 1000).
 */
export async function auditEntriesFor(db: Db, subject: string, limit = 1000): Promise<AuditRecord[]> {
  const filter = { $or: [{ subject }, { actor: `user:${subject}` }, { actor: `admin:${subject}` }] };
  return db.collection<AuditRecord>(AUDIT_COLLECTION).find(filter).sort({ at: 1, _id: 1 }).limit(limit).toArray();
}
