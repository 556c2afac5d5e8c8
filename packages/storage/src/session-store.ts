import type { Collection, Db } from 'mongodb';
import type { Vault } from '@inner-talk/vault';
import { groupBy, runOnce } from './migrations';
import { openFields, sealFields } from './personal-data';

export type SessionEndReason = 'command' | 'inactivity' | 'budget' | 'new_session';

/**
 * One conversation session, summary opened. The same shape as the conversation core's SessionState:
 * the core defines what it needs and knows no storage; this store provides it (checked where the
 * worker wires the two together).
 */
export interface SessionState {
  id: string;
  userId: string;
  status: 'active' | 'ended';
  startedAt: Date;
  lastMessageAt: Date;
  tokens: number;
  startedByTurn: string;
  previousSessionId: string | null;
  endedAt: Date | null;
  endReason: SessionEndReason | null;
  endedByTurn: string | null;
  summary: string | null;
  recent: SessionMessage[];
}

export interface SessionMessage {
  role: 'user' | 'assistant';
  text: string;
  turnKey: string;
}

/**
 * A person's index of their sessions, one document per person read by `_id`: which session is open,
 * which ended last, and which ended sessions have a summary (newest first). Every read a turn makes
 * goes through it, so no read filters or sorts the sessions collection (see `owned` for why).
 */
interface SessionHeadDoc {
  _id: string;
  /** The open session; absent when none is. */
  sessionId?: string;
  /** The most recently ended session. */
  lastEndedId?: string;
  /** Ended sessions with a summary, newest first, at most SUMMARY_IDS_KEPT. */
  summaryIds?: string[];
}

/** Summaries a person's index keeps; /history and the model context show far fewer. */
const SUMMARY_IDS_KEPT = 100;

interface SessionDoc {
  _id: string;
  userId: string;
  status: 'active' | 'ended';
  startedAt: Date;
  lastMessageAt: Date;
  tokens: number;
  startedByTurn: string;
  previousSessionId: string | null;
  endedAt?: Date;
  endReason?: SessionEndReason;
  endedByTurn?: string;
  /** Sealed by the vault. */
  summary?: string;
  /** The latest messages as sealed JSON (SessionMessage[]). */
  recent?: string;
}

export const SESSIONS_COLLECTION = 'sessions';
export const SESSION_HEADS_COLLECTION = 'session_heads';
const HEADS_MIGRATION = 'session-heads-index-ended';

/**
 * Conversation sessions and their summaries in MongoDB.
 *
 * Guarantees: the session id is chosen by the caller (derived from the event that starts it), so a
 * retried start is one document; ending is conditional on the session being active, so two endings
 * cannot both write a summary (the first wins, `end` reports which). Summaries are stored sealed.
 * The conversation handles one person's events one at a time, so there is at most one active session
 * per person.
 */
export class SessionStore {
  private readonly sessions: Collection<SessionDoc>;
  private readonly heads: Collection<SessionHeadDoc>;

  constructor(
    private readonly db: Db,
    private readonly options: { vault: Vault },
  ) {
    if (!options?.vault) throw new TypeError('SessionStore needs a vault (options.vault)');
    this.sessions = db.collection<SessionDoc>(SESSIONS_COLLECTION);
    this.heads = db.collection<SessionHeadDoc>(SESSION_HEADS_COLLECTION);
  }

  /** Creates the indexes reads rely on and indexes sessions stored before the per-person index existed. Safe to call at every start. */
  async ensureIndexes(): Promise<void> {
    await this.sessions.createIndex({ userId: 1, status: 1, startedAt: -1 }, { name: 'user_sessions' });
    await this.indexEarlierSessions();
  }

  /**
   * The person's active session, if any. Two reads by `_id` (the person's head, then the session):
   * this runs on every message, and an `_id` read stays fast on any server, however large the
   * collections grow, where a filtered query depends on the server's index use.
   */
  async activeSession(userId: string): Promise<SessionState | null> {
    const head = await this.heads.findOne({ _id: userId });
    if (head?.sessionId === undefined) return null;
    const doc = await this.owned(userId, head.sessionId);
    return doc?.status === 'active' ? this.state(doc) : null;
  }

  /** A session by id, if it exists (and belongs to `userId`). */
  async session(userId: string, id: string): Promise<SessionState | null> {
    const doc = await this.owned(userId, id);
    return doc ? this.state(doc) : null;
  }

  /**
   * Session `id` if it belongs to `userId`. Filters on `_id` alone and checks the owner here: a
   * MongoDB wire-protocol server may use its primary key only for a filter that is exactly
   * `{ _id }` (FerretDB on SQLite scans and decodes every document for `{ _id, userId }`).
   */
  private async owned(userId: string, id: string): Promise<SessionDoc | null> {
    const doc = await this.sessions.findOne({ _id: id });
    return doc?.userId === userId ? doc : null;
  }

  /** Starts session `id`; starting the same id again returns the stored one unchanged. */
  async start(session: { id: string; userId: string; at: Date; turnKey: string; previousSessionId: string | null }): Promise<SessionState> {
    const doc: SessionDoc = {
      _id: session.id,
      userId: session.userId,
      status: 'active',
      startedAt: session.at,
      lastMessageAt: session.at,
      tokens: 0,
      startedByTurn: session.turnKey,
      previousSessionId: session.previousSessionId,
    };
    await this.sessions.updateOne({ _id: doc._id }, { $setOnInsert: doc }, { upsert: true });
    const stored = (await this.sessions.findOne({ _id: doc._id })) ?? doc;
    if (stored.status === 'active') await this.heads.updateOne({ _id: session.userId }, { $set: { sessionId: doc._id } }, { upsert: true });
    return this.state(stored);
  }

  /**
   * Records a turn: `recent` becomes the given messages (the caller read the session this turn and
   * adds to what it read: one person's turns run one at a time, so nothing is lost and no read is
   * needed here), the latest message time moves forward (never back) and the tokens add up.
   */
  async recordTurn(change: { id: string; at: Date; tokens: number; recent: readonly SessionMessage[] }): Promise<void> {
    const recent = change.recent.map((m) => ({ role: m.role, text: m.text, turnKey: m.turnKey }));
    const sealed = sealFields(this.options.vault, 'sessions', { _id: change.id, recent: JSON.stringify(recent) }).recent;
    await this.sessions.updateOne({ _id: change.id }, { $set: { recent: sealed }, $max: { lastMessageAt: change.at }, $inc: { tokens: Math.max(0, Math.round(change.tokens)) } });
  }

  /**
   * Ends session `id` with its summary (null: nothing to sum up). Returns true if this call ended it,
   * false if it had already ended (then the stored outcome stands).
   */
  async end(change: { id: string; at: Date; reason: SessionEndReason; turnKey: string; summary: string | null }): Promise<boolean> {
    const set: Partial<SessionDoc> = { status: 'ended', endedAt: change.at, endReason: change.reason, endedByTurn: change.turnKey };
    if (change.summary !== null) set.summary = sealFields(this.options.vault, 'sessions', { _id: change.id, summary: change.summary }).summary;
    // Read, check, write by `_id` alone (see `owned`): one person's events run one at a time, so
    // nothing ends this session between the read and the write.
    const current = await this.sessions.findOne({ _id: change.id });
    if (!current) return false;
    const endedNow = current.status === 'active';
    if (endedNow) await this.sessions.updateOne({ _id: change.id }, { $set: set });
    // The index follows the stored outcome (also when a retry finds the session already ended).
    const stored = endedNow ? { ...current, ...set } : current;
    const head = await this.heads.findOne({ _id: current.userId });
    const summaryIds = (head?.summaryIds ?? []).filter((id) => id !== change.id);
    if (stored.summary !== undefined) summaryIds.unshift(change.id);
    await this.heads.updateOne(
      { _id: current.userId },
      {
        $set: { lastEndedId: change.id, summaryIds: summaryIds.slice(0, SUMMARY_IDS_KEPT) },
        ...(head?.sessionId === change.id && { $unset: { sessionId: '' } }),
      },
      { upsert: true },
    );
    return endedNow;
  }

  /** The person's most recently ended session, if any. */
  async lastEnded(userId: string): Promise<SessionState | null> {
    const head = await this.heads.findOne({ _id: userId });
    const doc = head?.lastEndedId ? await this.owned(userId, head.lastEndedId) : null;
    return doc ? this.state(doc) : null;
  }

  /** Ended sessions that have a summary, newest first, at most `limit` (reads by `_id` only). */
  async summaries(userId: string, limit: number): Promise<SessionState[]> {
    const head = await this.heads.findOne({ _id: userId });
    const ids = (head?.summaryIds ?? []).slice(0, Math.max(0, limit));
    const docs = await Promise.all(ids.map((id) => this.owned(userId, id)));
    return docs.filter((doc): doc is SessionDoc => doc?.summary !== undefined).map((doc) => this.state(doc));
  }

  /** Deletes one ended session with its summary; true if it existed. Only the owner's id matches. */
  async delete(userId: string, id: string): Promise<boolean> {
    const doc = await this.owned(userId, id);
    if (doc?.status !== 'ended') return false;
    const result = await this.sessions.deleteOne({ _id: id });
    const head = await this.heads.findOne({ _id: userId });
    if (head) {
      await this.heads.updateOne(
        { _id: userId },
        { $set: { summaryIds: (head.summaryIds ?? []).filter((s) => s !== id) }, ...(head.lastEndedId === id && { $unset: { lastEndedId: '' } }) },
      );
    }
    return result.deletedCount === 1;
  }

  /**
   * Builds the index of people whose sessions predate it (from one scan of ended sessions, once per
   * database). Idempotent; safe while workers run, because it only fills indexes that have no
   * summary list yet.
   */
  private async indexEarlierSessions(): Promise<void> {
    await runOnce(this.db, HEADS_MIGRATION, async () => {
      const ended = await this.sessions.find({ status: 'ended' }, { projection: { recent: 0 } }).toArray();
      for (const [userId, docs] of groupBy(ended, (doc) => doc.userId)) {
        const head = await this.heads.findOne({ _id: userId });
        if (head?.summaryIds !== undefined) continue;
        docs.sort((a, b) => (b.endedAt?.getTime() ?? 0) - (a.endedAt?.getTime() ?? 0));
        const summaryIds = docs.filter((d) => d.summary !== undefined).map((d) => d._id).slice(0, SUMMARY_IDS_KEPT);
        await this.heads.updateOne({ _id: userId }, { $set: { lastEndedId: docs[0]!._id, summaryIds } }, { upsert: true });
      }
    });
  }

  private state(doc: SessionDoc): SessionState {
    const opened = openFields(this.options.vault, 'sessions', doc);
    return {
      id: doc._id,
      userId: doc.userId,
      status: doc.status,
      startedAt: doc.startedAt,
      lastMessageAt: doc.lastMessageAt,
      tokens: doc.tokens,
      startedByTurn: doc.startedByTurn,
      previousSessionId: doc.previousSessionId ?? null,
      endedAt: doc.endedAt ?? null,
      endReason: doc.endReason ?? null,
      endedByTurn: doc.endedByTurn ?? null,
      summary: opened.summary ?? null,
      recent: opened.recent ? (JSON.parse(opened.recent) as SessionMessage[]) : [],
    };
  }
}
