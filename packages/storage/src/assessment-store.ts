import type { Collection, Db } from 'mongodb';

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

/**
 * Self-check runs (PHQ-9, GAD-7) in MongoDB: progress while a questionnaire is answered, the result
 * once it is complete. A restarted or different worker continues a run from here.
 *
 * Guarantees: a person has at most one `active` run (starting one abandons the others and drops
 * their answers); answers are written only if the run is still at the expected question, so an old
 * button can never change a later answer; answers and scores never reach MongoDB as plaintext.
 */
export class AssessmentStore {
  private readonly runs: Collection<AssessmentDoc>;
  private readonly vault: SealingVault;

  constructor(db: Db, options: { vault: SealingVault }) {
    this.runs = db.collection<AssessmentDoc>(ASSESSMENTS_COLLECTION);
    this.vault = options.vault;
  }

  /** Creates the indexes reads rely on. Safe to call at every start. */
  async ensureIndexes(): Promise<void> {
    await this.runs.createIndex({ userId: 1, questionnaire: 1, completedAt: -1 }, { name: 'user_results' });
    await this.runs.createIndex({ userId: 1, status: 1 }, { name: 'user_status' });
  }

  /**
   * Starts run `id` at question 0, or returns it unchanged if it exists (the same update handled
   * twice starts one run). Every other active run of the person is abandoned and its answers dropped.
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
    await this.runs.updateMany(
      { userId: run.userId, status: 'active', _id: { $ne: run.id } },
      { $set: { status: 'abandoned', updatedAt: run.at }, $unset: { answers: '' } },
    );
    const stored = await this.run(run.id);
    if (!stored) throw new Error(`self-check run ${run.id} vanished right after it was written`);
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
    const result = await this.runs.updateOne(
      { _id: change.id, status: 'active', index: change.expectedIndex },
      { $set: { answers: this.seal(change.id, change.answers), index: change.answers.length, updatedAt: change.at, lastTurnKey: change.turnKey } },
    );
    return result.modifiedCount === 1;
  }

  /** Like recordAnswer for the last question: stores the answers and the score and completes the run. */
  async complete(change: { id: string; expectedIndex: number; answers: readonly number[]; score: SelfCheckScore; at: Date; turnKey: string }): Promise<boolean> {
    const result = await this.runs.updateOne(
      { _id: change.id, status: 'active', index: change.expectedIndex },
      {
        $set: {
          status: 'completed',
          answers: this.seal(change.id, change.answers),
          result: this.seal(change.id, change.score),
          index: change.answers.length,
          completedAt: change.at,
          updatedAt: change.at,
          lastTurnKey: change.turnKey,
        },
      },
    );
    return result.modifiedCount === 1;
  }

  /** The person's most recent completed run of `questionnaire`, or null. */
  async latestResult(userId: string, questionnaire: string): Promise<SelfCheckRun | null> {
    const doc = await this.runs.find({ userId, questionnaire, status: 'completed' }).sort({ completedAt: -1 }).limit(1).next();
    return doc ? this.toRun(doc) : null;
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
