import type { Collection, Db } from 'mongodb';
import type { Vault } from '@inner-talk/vault';
import { openFields, sealFields } from './personal-data';

/** A person as the store knows them. `id` is channel-qualified (`tg:<telegram user id>`). */
export interface UserRecord {
  _id: string;
  channel: 'telegram';
  locale: string;
  createdAt: Date;
  lastSeenAt: Date;
}

export interface MessageRecord {
  /** `<userId>|<turnKey>|<role>`: the same turn written twice is one document. */
  _id: string;
  userId: string;
  turnKey: string;
  role: 'user' | 'assistant';
  /** Plaintext here; sealed by the vault in MongoDB. */
  text: string;
  at: Date;
  /** The conversation session the message belongs to (absent on messages stored before sessions existed). */
  sessionId?: string;
}

/** A message that showed risk of self-harm: when, how high, which detection layer. Never the text. */
export interface RiskEventRecord {
  /** `<userId>|<turnKey>`: one event per message however often it is handled. */
  _id: string;
  userId: string;
  /** Plaintext here; sealed by the vault in MongoDB. */
  level: 'low' | 'high';
  /** Plaintext here; sealed (as JSON) by the vault in MongoDB. */
  sources: string[];
  at: Date;
}

/**
 * A risk event as stored: `level` and `sources` (JSON) sealed, bound to the record. Events stored
 * before sealing existed hold them in plaintext (`sources` as an array) and still read.
 */
interface StoredRiskEvent {
  _id: string;
  userId: string;
  level: string;
  sources: string | string[];
  at: Date;
}

export interface ConversationStoreOptions {
  /** Seals message texts before they reach MongoDB and opens them on the way back. */
  vault: Vault;
}

/**
 * Users and their messages in MongoDB.
 *
 * Guarantees: every write is idempotent (upserts keyed by a deterministic `_id`), so a retried job
 * never duplicates a user or a message. Reads return messages oldest first. Message texts are stored
 * sealed (AES-256-GCM, bound to their document); texts stored before encryption existed still read
 * and are sealed by `rotateKeys`. A text that does not open throws SealedFieldUnreadableError.
 */
export class ConversationStore {
  private readonly users: Collection<UserRecord>;
  private readonly messages: Collection<MessageRecord>;
  private readonly riskEvents: Collection<StoredRiskEvent>;
  private readonly vault: Vault;

  constructor(db: Db, options: ConversationStoreOptions) {
    // Checked at run time too: a store without a vault would write plaintext.
    if (!options?.vault) throw new TypeError('ConversationStore needs a vault (options.vault)');
    this.vault = options.vault;
    this.users = db.collection<UserRecord>('users');
    this.messages = db.collection<MessageRecord>('messages');
    this.riskEvents = db.collection<StoredRiskEvent>('risk_events');
  }

  /** Creates the indexes reads rely on. Safe to call at every start. */
  async ensureIndexes(): Promise<void> {
    await this.messages.createIndex({ userId: 1, at: -1 }, { name: 'user_recent' });
    // riskEventsOf, and export/forget by user.
    await this.riskEvents.createIndex({ userId: 1, at: 1 }, { name: 'user_events' });
  }

  /** Creates the user on first sight; afterwards refreshes `lastSeenAt` and `locale` (the conversation calls it when a session starts). */
  async touchUser(id: string, locale: string, now: Date): Promise<void> {
    await this.users.updateOne(
      { _id: id },
      { $setOnInsert: { channel: 'telegram', createdAt: now }, $set: { locale, lastSeenAt: now } },
      { upsert: true },
    );
  }

  async getUser(id: string): Promise<UserRecord | null> {
    return this.users.findOne({ _id: id });
  }

  /** Stores one message of a turn; writing the same (userId, turnKey, role) again changes nothing. */
  async saveMessage(message: Omit<MessageRecord, '_id'>): Promise<void> {
    await this.saveMessages([message]);
  }

  /**
   * Stores messages (a person's message and our reply) in one round trip, in the given order; each
   * is keyed by (userId, turnKey, role), so writing one again changes nothing. If the write fails
   * part-way, the ones before the failure are stored and a retry completes the rest.
   */
  async saveMessages(messages: readonly Omit<MessageRecord, '_id'>[]): Promise<void> {
    if (messages.length === 0) return;
    await this.messages.bulkWrite(
      messages.map((message) => {
        const _id = `${message.userId}|${message.turnKey}|${message.role}`;
        const { _id: _ignored, ...sealed } = sealFields(this.vault, 'messages', { ...message, _id });
        return { updateOne: { filter: { _id }, update: { $setOnInsert: sealed }, upsert: true } };
      }),
      { ordered: true },
    );
  }

  /** The stored reply for a turn, if one was already produced (lets a retried job skip the LLM). */
  async findReply(userId: string, turnKey: string): Promise<string | null> {
    const doc = await this.messages.findOne({ _id: `${userId}|${turnKey}|assistant` });
    return doc ? openFields(this.vault, 'messages', doc).text : null;
  }

  /**
   * Stores a risk event (no message text); the same (userId, turnKey) is stored once. Its level and
   * sources are sealed: what the detection found is as private as the message it found it in.
   */
  async recordRiskEvent(event: { userId: string; turnKey: string; level: 'low' | 'high'; sources: readonly string[]; at: Date }): Promise<void> {
    const _id = `${event.userId}|${event.turnKey}`;
    const record = sealFields(this.vault, 'risk_events', { _id, userId: event.userId, level: event.level as string, sources: JSON.stringify(event.sources), at: event.at });
    await this.riskEvents.updateOne({ _id }, { $setOnInsert: record }, { upsert: true });
  }

  /** Risk events of a user, oldest first, opened. */
  async riskEventsOf(userId: string): Promise<RiskEventRecord[]> {
    const docs = await this.riskEvents.find({ userId }).sort({ at: 1 }).toArray();
    return docs.map((doc) => this.openRiskEvent(doc));
  }

  /**
   * How many risk events of each level were recorded since `since` (the operator console's counts).
   * The level is sealed, so every event of the period is read and opened: fine for an operator's
   * occasional look at a day, not for a hot path.
   */
  async riskEventCounts(since: Date): Promise<{ high: number; low: number }> {
    const counts = { high: 0, low: 0 };
    for (const doc of await this.riskEvents.find({ at: { $gte: since } }).toArray()) counts[this.openRiskEvent(doc).level] += 1;
    return counts;
  }

  private openRiskEvent(doc: StoredRiskEvent): RiskEventRecord {
    const opened = openFields(this.vault, 'risk_events', doc);
    const sources = typeof opened.sources === 'string' ? (JSON.parse(opened.sources) as string[]) : opened.sources;
    return { _id: opened._id, userId: opened.userId, level: opened.level === 'high' ? 'high' : 'low', sources, at: opened.at };
  }

  /** The last `limit` messages of a user (of one session, when `sessionId` is given), oldest first. */
  async recentMessages(userId: string, limit: number, sessionId?: string): Promise<MessageRecord[]> {
    const filter = sessionId === undefined ? { userId } : { userId, sessionId };
    const newestFirst = await this.messages.find(filter).sort({ at: -1 }).limit(limit).toArray();
    return newestFirst.reverse().map((doc) => openFields(this.vault, 'messages', doc));
  }
}
