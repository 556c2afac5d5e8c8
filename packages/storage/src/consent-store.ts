import type { Collection, Db } from 'mongodb';

/**
 * Where a person is in onboarding. `language` → `adult` (18+ question) → `consent` → `consented`;
 * `declined` and `underage` end it until the person starts again.
 */
export type ConsentStep = 'language' | 'adult' | 'consent' | 'consented' | 'declined' | 'underage';

/**
 * The consent state of one person: the only record kept before consent is given. It holds the
 * onboarding step, the chosen language and the consent flags with their timestamps — never a
 * message, a profile or anything else about the person. `lastActiveAt` is written only after consent.
 */
export interface ConsentRecord {
  /** The channel-qualified user id (`tg:<id>`); also in `userId` so every personal collection has that field. */
  _id: string;
  userId: string;
  step: ConsentStep;
  locale: string | null;
  /** When this run of onboarding began (the language choice). */
  startedAt: Date;
  updatedAt: Date;
  adultConfirmedAt?: Date;
  consentedAt?: Date;
  declinedAt?: Date;
  underageAt?: Date;
  /** Last time a consented person did anything; drives the disclosure after a long absence. */
  lastActiveAt?: Date;
  /** The update that made the last change, so a retried update can re-send the same answer. */
  lastTurnKey?: string;
}

export const CONSENTS_COLLECTION = 'consents';

/**
 * Consent state in MongoDB, one document per person (`_id` = user id).
 *
 * Guarantees: every write is a single-document upsert, so a retried job never creates a second
 * record; `grantConsent` is the one way a record becomes `consented` (the consent button's write,
 * also the documented fixture for tests, the demo and benchmarks).
 */
export class ConsentStore {
  private readonly consents: Collection<ConsentRecord>;

  constructor(db: Db) {
    this.consents = db.collection<ConsentRecord>(CONSENTS_COLLECTION);
  }

  /** The person's consent state, or null if they never chose a language. */
  async consentOf(userId: string): Promise<ConsentRecord | null> {
    return this.consents.findOne({ _id: userId });
  }

  /**
   * Replaces the whole consent record (an onboarding step, a language switch). The conversation
   * handles one person's updates one at a time, so a read–modify–replace cannot lose a change.
   */
  async saveConsent(record: Omit<ConsentRecord, '_id'>): Promise<void> {
    // A record read earlier carries `_id`; the filter decides it, so drop any copy in the body.
    const { _id: _ignored, ...fields } = record as Omit<ConsentRecord, '_id'> & { _id?: string };
    await this.consents.replaceOne({ _id: record.userId }, fields, { upsert: true });
  }

  /**
   * Records explicit consent to process health-related data, given at `at` in `locale`: step
   * `consented`, `consentedAt` = `at`, an earlier decline cleared. 18+ confirmation comes before
   * consent in onboarding, so `adultConfirmedAt` keeps its earlier time or becomes `at`. Idempotent
   * apart from the timestamps. Used by the consent button and, as a fixture, by tests, the local
   * demo and benchmarks to skip clicking through onboarding.
   */
  async grantConsent(userId: string, locale: string, at: Date, turnKey?: string): Promise<void> {
    await this.consents.updateOne(
      { _id: userId },
      {
        $set: { userId, step: 'consented', locale, consentedAt: at, lastActiveAt: at, updatedAt: at, ...(turnKey !== undefined && { lastTurnKey: turnKey }) },
        $unset: { declinedAt: '', underageAt: '' },
        $min: { adultConfirmedAt: at, startedAt: at },
      },
      { upsert: true },
    );
  }

  /**
   * Notes that a consented person was active at `at`; creates nothing (a forgotten person stays
   * forgotten). The caller calls it only for a person it read as consented this turn; the filter is
   * `_id` alone because a wire-protocol server may use its primary key only for exactly `{ _id }`
   * (FerretDB on SQLite scans every document for `{ _id, step }`).
   */
  async markActive(userId: string, at: Date): Promise<void> {
    await this.consents.updateOne({ _id: userId }, { $set: { lastActiveAt: at } });
  }
}
