import type { Logger } from '@inner-talk/telemetry';
import { describe } from './drain';

const FIRST_RETRY_MS = 1_000;
const MAX_RETRY_MS = 30_000;

/** Not ready: the steps have not all succeeded yet. */
export class StorageNotPreparedError extends Error {
  override readonly name = 'StorageNotPreparedError';
  constructor() {
    super('storage indexes and migrations have not run yet');
  }
}

export interface StorageSetup {
  /** Resolves when every step has succeeded; rejects with StorageNotPreparedError before (for /readyz). */
  check(): Promise<void>;
  /** Stops retrying (shutdown). A step in progress is not waited for: closing the client ends it. */
  stop(): void;
}

/**
 * Runs the storage start-up steps (index creation, data migrations) in the background, in order,
 * retrying from the first unfinished one with backoff (1 s doubling to 30 s) until all succeed.
 * Why in the background: a worker must start and answer /sos and crisis texts while MongoDB cannot
 * be reached, so nothing at start may wait for the database. Steps must be idempotent (they are:
 * createIndex and runOnce). Failures are logged by class only.
 */
export function prepareStorage(steps: readonly (() => Promise<void>)[], options: { logger: Logger; isClosing(): boolean }): StorageSetup {
  let done = false;
  let stopped = false;
  let wake: (() => void) | null = null;
  void (async () => {
    let next = 0;
    for (let attempt = 1; next < steps.length; attempt += 1) {
      if (stopped || options.isClosing()) return;
      try {
        while (next < steps.length) {
          await steps[next]!();
          next += 1;
        }
      } catch (err) {
        if (stopped) return;
        const waitMs = Math.min(MAX_RETRY_MS, FIRST_RETRY_MS * 2 ** (attempt - 1));
        options.logger.warn({ err: describe(err), step: next, retryInMs: waitMs }, 'storage set-up failed; retrying');
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, waitMs);
          timer.unref();
          wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        wake = null;
      }
    }
    if (stopped) return;
    done = true;
    options.logger.info({ steps: steps.length }, 'storage ready');
  })();
  return {
    check: () => (done ? Promise.resolve() : Promise.reject(new StorageNotPreparedError())),
    stop: () => {
      stopped = true;
      (wake as (() => void) | null)?.();
    },
  };
}
