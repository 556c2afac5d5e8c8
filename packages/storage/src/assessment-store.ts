import type { Collection, Db } from 'mongodb';
import { groupBy, runOnce } from './migrations';

/** What the store needs to keep answers unreadable at rest (the vault package's Vault fits). */
export interface SealingVault {
  seal(plain: string, aad?: string): string;
  open(sealed: string, aad?: string): string;
}

export type SelfCheckStatus = 'active' | 'completed' | 'abandoned';

/** The score of a completed self-check. */
export interface SelfCheckScore {
  total: number;
  band: string;
  item9Flag: boolean;
}

/** One run of a questionnaire as the conversation sees it: answers and score already opened. */
export interface SelfCheckRun {
  id: string;
  userId: string;
  questionnaire: string;
  status: SelfCheckStatus;
  /** Index of the next question to answer (equals the number of answers). */
  index: number;
  answers: number[];
  startedAt: Date;
  completedAt: Date | null;
  score: SelfCheckScore | null;
  /** The update that made the last change, so a retried update can re-send the same answer. */
  lastTurnKey: string;
}

/**
 * The stored document. `answers` and `result` are sealed JSON (one string each, AAD
 * `assessments|<_id>` as for every sealed field); the questionnaire, status, progress and dates stay
 * plain because the retest rule and the order of results need them.
 */
interface AssessmentDoc {
  _id: string;
  userId: string;
  questionnaire: string;
  status: SelfCheckStatus;
  index: number;
  answers?: string;
  result?: string;
  startedAt: Date;
  updatedAt: Date;
  completedAt?: Date;
  lastTurnKey: string;
}

export const ASSESSMENTS_COLLECTION = 'assessments';
export const ASSESSMENT_HEADS_COLLECTION = 'assessment_heads';
const HEADS_MIGRATION = 'assessment-heads';

/**
 * A person's index of their runs, one document per person read by `_id`: the active run and the
 * latest completed run of each questionnaire. Turns read runs through it only, so no read filters
 * or sorts the assessments collection (a wire-protocol server may use its primary key only for a
 * filter that is exactly `{ _id }`; FerretDB on SQLite scans every document otherwise).
 */
interface AssessmentHeadDoc {
  _id: string;
  activeRunId?: string;
  /** Questionnaire id → its latest completed run. */
  latest?: Record<string, string>;
}

/**
 * Self-check runs (PHQ-9, GAD-7) in MongoDB: progress while a questionnaire is answered, the result
 * once it is complete. A restarted or different worker continues a run from here.
 *
 * Guarantees: a person has at most one `active` run (starting one abandons the one before and drops
 * its answers); answers are written only if the run is still at the expected question, so an old
 * button can never change a later answer; answers and scores never reach MongoDB as plaintext.
 */
export class AssessmentStore {
  private readonly runs: Collection<AssessmentDoc>;
  private readonly heads: Collection<AssessmentHeadDoc>;
  private readonly vault: SealingVault;

  constructor(
    private readonly db: Db,
    options: { vault: SealingVault },
  ) {
    this.runs = db.collection<AssessmentDoc>(ASSESSMENTS_COLLECTION);
    this.heads = db.collection<AssessmentHeadDoc>(ASSESSMENT_HEADS_COLLECTION);
    this.vault = options.vault;
  }

  /** Creates the indexes reads rely on and indexes runs stored before the per-person index existed. Safe to call at every start. */
  async ensureIndexes(): Promise<void> {
    await this.runs.createIndex({ userId: 1, questionnaire: 1, completedAt: -1 }, { name: 'user_results' });
    await this.runs.createIndex({ userId: 1, status: 1 }, { name: 'user_status' });
    await this.indexEarlierRuns();
  }

  /**
   * Builds the index of people whose runs predate it (from one scan of active and completed runs,
   * once per database). Idempotent; safe while workers run, because it skips people who have one.
   */
  private async indexEarlierRuns(): Promise<void> {
    await runOnce(this.db, HEADS_MIGRATION, async () => {
      const runs = await this.runs.find({ status: { $in: ['active', 'completed'] } }, { projection: { answers: 0, result: 0 } }).toArray();
      for (const [userId, docs] of groupBy(runs, (doc) => doc.userId)) {
        if (await this.heads.findOne({ _id: userId })) continue;
        const newest = (a: AssessmentDoc, b: AssessmentDoc) => (b.completedAt ?? b.updatedAt).getTime() - (a.completedAt ?? a.updatedAt).getTime();
        const latest: Record<string, string> = {};
        for (const doc of docs.filter((d) => d.status === 'completed').sort(newest)) latest[doc.questionnaire] ??= doc._id;
        const active = docs.filter((d) => d.status === 'active').sort(newest)[0];
        await this.heads.updateOne({ _id: userId }, { $set: { latest, ...(active && { activeRunId: active._id }) } }, { upsert: true });
      }
    });
  }

  /**
   * Starts run `id` at question 0, or returns it unchanged if it exists (the same update handled
   * twice starts one run). The person's active run before it is abandoned and its answers dropped.
   */
  async startRun(run: { id: string; userId: string; questionnaire: string; at: Date; turnKey: string }): Promise<SelfCheckRun> {
    const doc: AssessmentDoc = {
      _id: run.id,
      userId: run.userId,
      questionnaire: run.questionnaire,
      status: 'active',
      index: 0,
      answers: this.seal(run.id, []),
      startedAt: run.at,
      updatedAt: run.at,
      lastTurnKey: run.turnKey,
    };
    await this.runs.updateOne({ _id: run.id }, { $setOnInsert: doc }, { upsert: true });
    const stored = await this.run(run.id);
    if (!stored) throw new Error(`self-check run ${run.id} vanished right after it was written`);
    if (stored.status === 'active') {
      const head = await this.heads.findOne({ _id: run.userId });
      const previous = head?.activeRunId;
      if (previous !== undefined && previous !== run.id) {
        const other = await this.runs.findOne({ _id: previous });
        if (other?.status === 'active') await this.runs.updateOne({ _id: previous }, { $set: { status: 'abandoned', updatedAt: run.at }, $unset: { answers: '' } });
      }
      if (previous !== run.id) await this.heads.updateOne({ _id: run.userId }, { $set: { activeRunId: run.id } }, { upsert: true });
    }
    return stored;
  }

  /** Run `id`, opened, or null. */
  async run(id: string): Promise<SelfCheckRun | null> {
    const doc = await this.runs.findOne({ _id: id });
    return doc ? this.toRun(doc) : null;
  }

  /**
   * Stores the answers of an active run that is still at question `expectedIndex` and moves it to
   * the next question. Returns false (and changes nothing) if the run moved on, finished or was
   * abandoned meanwhile.
   */
  async recordAnswer(change: { id: string; expectedIndex: number; answers: readonly number[]; at: Date; turnKey: string }): Promise<boolean> {
    const advanced = await this.advance(change.id, change.expectedIndex, {
      answers: this.seal(change.id, change.answers),
      index: change.answers.length,
      updatedAt: change.at,
      lastTurnKey: change.turnKey,
    });
    return advanced !== null;
  }

  /** Like recordAnswer for the last question: stores the answers and the score and completes the run. */
  async complete(change: { id: string; expectedIndex: number; answers: readonly number[]; score: SelfCheckScore; at: Date; turnKey: string }): Promise<boolean> {
    const completed = await this.advance(change.id, change.expectedIndex, {
      status: 'completed',
      answers: this.seal(change.id, change.answers),
      result: this.seal(change.id, change.score),
      index: change.answers.length,
      completedAt: change.at,
      updatedAt: change.at,
      lastTurnKey: change.turnKey,
    });
    if (!completed) return false;
    await this.heads.updateOne(
      { _id: completed.userId },
      { $set: { [`latest.${completed.questionnaire}`]: change.id }, $unset: { activeRunId: '' } },
      { upsert: true },
    );
    return true;
  }

  /**
   * Applies `set` to run `id` if it is active at question `expectedIndex`; true if it did. Read,
   * check, write by `_id` alone: a wire-protocol server may use its primary key only for a filter
   * that is exactly `{ _id }` (FerretDB on SQLite scans every document otherwise), and one person's
   * events run one at a time, so the run cannot move between the read and the write.
   */
  private async advance(id: string, expectedIndex: number, set: Partial<AssessmentDoc>): Promise<AssessmentDoc | null> {
    const current = await this.runs.findOne({ _id: id });
    if (current?.status !== 'active' || current.index !== expectedIndex) return null;
    const result = await this.runs.updateOne({ _id: id }, { $set: set });
    return result.modifiedCount === 1 ? current : null;
  }

  /** The person's most recent completed run of `questionnaire`, or null. */
  async latestResult(userId: string, questionnaire: string): Promise<SelfCheckRun | null> {
    const head = await this.heads.findOne({ _id: userId });
    const id = head?.latest?.[questionnaire];
    const doc = id === undefined ? null : await this.runs.findOne({ _id: id });
    return doc?.userId === userId && doc.status === 'completed' ? this.toRun(doc) : null;
  }

  /** The person's completed runs, newest first, at most `limit`. */
  async resultsOf(userId: string, limit = 20): Promise<SelfCheckRun[]> {
    const docs = await this.runs.find({ userId, status: 'completed' }).sort({ completedAt: -1 }).limit(limit).toArray();
    return docs.map((d) => this.toRun(d));
  }

  private aad(id: string): string {
    return `${ASSESSMENTS_COLLECTION}|${id}`;
  }

  private seal(id: string, value: unknown): string {
    return this.vault.seal(JSON.stringify(value), this.aad(id));
  }

  private toRun(doc: AssessmentDoc): SelfCheckRun {
    const answers = doc.answers === undefined ? [] : (JSON.parse(this.vault.open(doc.answers, this.aad(doc._id))) as number[]);
    const score = doc.result === undefined ? null : (JSON.parse(this.vault.open(doc.result, this.aad(doc._id))) as SelfCheckScore);
    return {
      id: doc._id,
      userId: doc.userId,
      questionnaire: doc.questionnaire,
      status: doc.status,
      index: doc.index,
      answers,
      startedAt: doc.startedAt,
      completedAt: doc.completedAt ?? null,
      score,
      lastTurnKey: doc.lastTurnKey,
    };
  }
}
