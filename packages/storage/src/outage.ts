import { MongoNetworkError, MongoServerSelectionError } from 'mongodb';

/**
 * True when `error` (or an error in its `cause` chain, up to 5 deep) means the database cannot be
 * reached right now: server selection timed out, a connection broke or timed out
 * (MongoNetworkTimeoutError is a MongoNetworkError), or the pool was cleared after one did (the
 * driver's PoolClearedError is a MongoNetworkError too). Such an
 * error says nothing about the work that met it, so callers wait and retry instead of counting it
 * as a failure of that work. Decided by the driver's error classes, never by message text.
 */
export function isStorageUnavailable(error: unknown): boolean {
  let current = error;
  for (let depth = 0; current instanceof Error && depth < 5; depth += 1) {
    if (current instanceof MongoServerSelectionError || current instanceof MongoNetworkError) return true;
    current = current.cause;
  }
  return false;
}
