import type { Db, Document } from 'mongodb';
import { VaultError, type Vault } from '@inner-talk/vault';
import { PERSONAL_COLLECTIONS, recordAad, type PersonalCollection } from './personal-data';

/** Counts of one rotation run (per collection and in total). */
export interface RotationCounts {
  /** Documents examined (of collections with sealed fields). */
  scanned: number;
  /** Field values moved from an older key to the current one. */
  resealed: number;
  /** Plaintext field values (written before encryption existed) sealed for the first time. */
  plaintextSealed: number;
  /** Documents left alone because they changed or vanished between read and write (a concurrent write or forget did the work). */
  skipped: number;
  /** Field values that do not open (tampered, or sealed under a key not in the ring); left as they are. */
  unreadable: number;
}

export interface RotationResult extends RotationCounts {
  collections: Record<string, RotationCounts>;
}

/**
 * Re-seals under the vault's current key every sealed field (of {@link PERSONAL_COLLECTIONS}) that
 * was sealed under another key, and seals plaintext leftovers.
 *
 * Guarantees:
 * - Safe to re-run: values already under the current key are not touched, so a second run
 *   reseals 0. Safe to interrupt: each document is updated on its own.
 * - Safe while the app writes: each update is conditional on the document still holding the exact
 *   values read, so a concurrent write is never overwritten (that document counts as `skipped`;
 *   the app seals under the current key itself, given the same keyring).
 * - Texts are unchanged, and stay bound to their record (the same associated data is used).
 * - Documents inserted while it runs may be missed; they are sealed under the current key anyway.
 * - Values that do not open are counted as `unreadable` and left alone; the run continues.
 * Memory: at most `batchSize` documents (default 500) in flight.
 */
export async function rotateKeys(
  db: Db,
  vault: Vault,
  options: { batchSize?: number; collections?: readonly PersonalCollection[] } = {},
): Promise<RotationResult> {
  const batchSize = Math.max(1, Math.floor(options.batchSize ?? 500));
  const total: RotationResult = { ...emptyCounts(), collections: {} };
  for (const collection of options.collections ?? PERSONAL_COLLECTIONS) {
    if (collection.sealedFields.length === 0) continue;
    const counts = emptyCounts();
    total.collections[collection.name] = counts;
    const projection = Object.fromEntries(collection.sealedFields.map((f) => [f, 1]));
    // One cursor in _id order: _id never changes, so an update cannot make a document come round again.
    const cursor = db.collection(collection.name).find({}, { projection, sort: { _id: 1 }, batchSize });
    let batch: Document[] = [];
    const flush = async () => {
      await Promise.all(batch.map((doc) => rotateDocument(db, vault, collection, doc, counts)));
      batch = [];
    };
    try {
      for await (const doc of cursor) {
        batch.push(doc);
        if (batch.length >= batchSize) await flush();
      }
      await flush();
    } finally {
      await cursor.close();
    }
    for (const key of Object.keys(counts) as Array<keyof RotationCounts>) total[key] += counts[key];
  }
  return total;
}

async function rotateDocument(db: Db, vault: Vault, collection: PersonalCollection, doc: Document, counts: RotationCounts): Promise<void> {
  counts.scanned += 1;
  const expected: Document = { _id: doc._id };
  const next: Document = {};
  let resealed = 0;
  let plaintext = 0;
  const jsonFields = new Set<string>(collection.sealedJsonFields ?? []);
  for (const field of collection.sealedFields) {
    const value: unknown = doc[field];
    const aad = recordAad(collection.name, doc._id);
    if (typeof value !== 'string') {
      // A JSON field written in plaintext before it was sealed (e.g. a risk event's sources array).
      if (value === null || value === undefined || !jsonFields.has(field)) continue;
      next[field] = vault.seal(JSON.stringify(value), aad);
      expected[field] = value;
      plaintext += 1;
      continue;
    }
    if (vault.isSealed(value)) {
      if (!vault.needsRotation(value)) continue;
      try {
        next[field] = vault.seal(vault.open(value, aad), aad);
      } catch (error) {
        if (!(error instanceof VaultError)) throw error;
        counts.unreadable += 1;
        continue;
      }
      resealed += 1;
    } else {
      next[field] = vault.seal(value, aad);
      plaintext += 1;
    }
    expected[field] = value;
  }
  if (resealed + plaintext === 0) return;
  const result = await db.collection(collection.name).updateOne(expected, { $set: next });
  if (result.matchedCount === 0) {
    counts.skipped += 1;
    return;
  }
  counts.resealed += resealed;
  counts.plaintextSealed += plaintext;
}

function emptyCounts(): RotationCounts {
  return { scanned: 0, resealed: 0, plaintextSealed: 0, skipped: 0, unreadable: 0 };
}
