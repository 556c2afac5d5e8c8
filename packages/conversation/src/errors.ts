import type { Reply } from './types';

/**
 * The crisis check could not run its model layer (an error, a refusal, no answer in time, an
 * unreadable answer) and the phrase list alone does not say high risk: whether the message is a
 * crisis is unknown. Thrown by `SafetyCheck.assess`; the conversation turns it into a
 * TurnDeferredError with the crisis contacts.
 */
export class SafetyCheckUnavailableError extends Error {
  override readonly name = 'SafetyCheckUnavailableError';
  constructor(
    /** When a model can be asked again (epoch ms), when the failure says so (e.g. every provider cooling down). */
    readonly retryAt: number | null,
    options?: { cause?: unknown },
  ) {
    super('the crisis check could not ask its model', options);
  }
}

/** Storage did not answer within the wait a crisis reply allows (see ConversationOptions.urgentStorageWaitMs). */
export class StorageTooSlowError extends Error {
  override readonly name = 'StorageTooSlowError';
  constructor(readonly waitedMs: number) {
    super(`storage gave no answer within ${waitedMs} ms`);
  }
}

/** Why a turn waits: the crisis check could not run, or storage cannot be reached. */
export type DeferReason = 'safety_unchecked' | 'storage_unavailable';

/**
 * The turn cannot be finished now, but the person must hear something at once: send `interim`,
 * then run the turn again later without counting it as a failed attempt (the message is not dropped).
 *
 * - `safety_unchecked`: `interim` is a notice with the crisis contacts, not part of the turn's
 *   replies; send it once per turn however often the turn waits.
 * - `storage_unavailable`: `interim` is the crisis reply, the turn's first reply; the re-run starts
 *   with the same reply, so a delivery ledger that counts a turn's replies skips it then.
 */
export class TurnDeferredError extends Error {
  override readonly name = 'TurnDeferredError';
  constructor(
    readonly reason: DeferReason,
    readonly interim: readonly Reply[],
    /** When to run the turn again (epoch ms), when known; otherwise the caller's own backoff. */
    readonly retryAt: number | null,
    options?: { cause?: unknown },
  ) {
    super(`turn deferred: ${reason}`, options);
  }
}
