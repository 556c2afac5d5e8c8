import type { Db } from 'mongodb';

/** One marker document per data migration that ran (no personal data). */
export const MIGRATIONS_COLLECTION = 'migrations';

/**
 * Runs `migrate` unless the marker `name` says it already ran in this database, then writes the
 * marker. Guarantees: once it has completed, never again; a run cut short runs again at the next
 * start, so `migrate` must be idempotent. Two processes starting together may both run it.
 */
export async function runOnce(db: Db, name: string, migrate: () => Promise<void>): Promise<void> {
  const markers = db.collection<{ _id: string; at: Date }>(MIGRATIONS_COLLECTION);
  if (await markers.findOne({ _id: name })) return;
  await migrate();
  await markers.updateOne({ _id: name }, { $setOnInsert: { at: new Date() } }, { upsert: true });
}

/** `items` grouped by `key`, each group in the order of `items`. */
export function groupBy<T>(items: readonly T[], key: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    const group = groups.get(k);
    if (group) group.push(item);
    else groups.set(k, [item]);
  }
  return groups;
}
