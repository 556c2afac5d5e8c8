import { BSON, type Db } from 'mongodb';
import { Vault } from '@inner-talk/vault';
import { serviceUrls, uniquePrefix } from '@inner-talk/testkit';
import {
  AUDIT_COLLECTION,
  auditEntriesFor,
  connectMongo,
  ConversationStore,
  exportUserData,
  forgetUserData,
  PERSONAL_COLLECTIONS,
  recordAudit,
  RETAINED_COLLECTIONS,
  type MongoConnection,
} from './index';

const ALICE = 'tg:1001';
const BOB = 'tg:2002';
const ALICE_TEXTS = ['Alice cannot sleep before exams', 'Alice: моя тревога растёт 🌧️'];
const BOB_TEXTS = ['Bob feels lonely after moving'];

/** Every document of every collection in the database, as EJSON text, by collection. */
async function rawDump(db: Db): Promise<Record<string, string>> {
  const dump: Record<string, string> = {};
  for (const { name } of await db.listCollections({}, { nameOnly: true }).toArray()) {
    dump[name] = BSON.EJSON.stringify(await db.collection(name).find({}).toArray());
  }
  return dump;
}

describe('export and forget of a person\'s data', () => {
  let mongo: MongoConnection;
  let store: ConversationStore;
  const vault = Vault.withRandomKey();

  async function converse(userId: string, texts: string[]) {
    await store.touchUser(userId, 'ru', new Date('2026-01-02T03:04:05.000Z'));
    for (const [i, text] of texts.entries()) {
      await store.saveMessage({ userId, turnKey: `u${i}`, role: 'user', text, at: new Date(Date.UTC(2026, 0, 2, 3, 4, 10 + i)) });
      await store.saveMessage({ userId, turnKey: `u${i}`, role: 'assistant', text: `I hear you (${text})`, at: new Date(Date.UTC(2026, 0, 2, 3, 4, 10 + i, 500)) });
    }
    await store.recordRiskEvent({ userId, turnKey: 'u0', level: 'low', sources: ['phrases'], at: new Date('2026-01-02T03:04:10.000Z') });
  }

  beforeAll(async () => {
    mongo = await connectMongo(serviceUrls().mongoUrl, uniquePrefix('rights'));
    store = new ConversationStore(mongo.db, { vault });
    await store.ensureIndexes();
    await converse(ALICE, ALICE_TEXTS);
    await converse(BOB, BOB_TEXTS);
    // A message from before encryption existed.
    await mongo.db.collection('messages').insertOne({ _id: `${ALICE}|legacy|user` as never, userId: ALICE, turnKey: 'legacy', role: 'user', text: 'Alice wrote this in 2025', at: new Date('2025-12-31T00:00:00.000Z') });
    await recordAudit(mongo.db, { actor: `user:${ALICE}`, action: 'data.export', subject: ALICE, at: new Date('2026-01-03T00:00:00.000Z'), details: { documents: 6 } });
    await recordAudit(mongo.db, { actor: `user:${ALICE}`, action: 'admin.refused', subject: null, at: new Date('2026-01-03T00:00:01.000Z'), id: 'admin-refused-u5' });
    await recordAudit(mongo.db, { actor: `user:${BOB}`, action: 'data.export', subject: BOB, at: new Date('2026-01-03T00:00:02.000Z') });
  });
  afterAll(async () => {
    await mongo.db.dropDatabase();
    await mongo.close();
  });

  it('exports every document of the person, opened, as plain JSON', async () => {
    const exported = await exportUserData(mongo.db, vault, ALICE, { now: new Date('2026-02-01T00:00:00.000Z') });
    // Plain JSON: survives a round trip unchanged.
    expect(JSON.parse(JSON.stringify(exported))).toEqual(exported);
    expect(Object.keys(exported.collections).sort()).toEqual(PERSONAL_COLLECTIONS.map((c) => c.name).sort());
    expect(exported).toMatchObject({ format: 'inner-talk.user-data', version: 1, userId: ALICE, exportedAt: '2026-02-01T00:00:00.000Z' });
    expect(exported.collections.users).toEqual([
      { _id: ALICE, channel: 'telegram', locale: 'ru', createdAt: '2026-01-02T03:04:05.000Z', lastSeenAt: '2026-01-02T03:04:05.000Z' },
    ]);
    const messages = exported.collections.messages ?? [];
    expect(messages.map((m) => m.text).sort()).toEqual(
      [...ALICE_TEXTS, ...ALICE_TEXTS.map((t) => `I hear you (${t})`), 'Alice wrote this in 2025'].sort(),
    );
    expect(messages[0]).toEqual({ _id: `${ALICE}|legacy|user`, userId: ALICE, turnKey: 'legacy', role: 'user', text: 'Alice wrote this in 2025', at: '2025-12-31T00:00:00.000Z' });
    expect(exported.collections.risk_events).toEqual([
      { _id: `${ALICE}|u0`, userId: ALICE, level: 'low', sources: ['phrases'], at: '2026-01-02T03:04:10.000Z' },
    ]);
    // Who did what with her data, as the audit log recorded it; none of Bob's.
    expect(exported.audit).toEqual([
      { _id: expect.any(String) as unknown, actor: `user:${ALICE}`, action: 'data.export', subject: ALICE, at: '2026-01-03T00:00:00.000Z', details: { documents: 6 } },
      expect.objectContaining({ _id: 'admin-refused-u5', actor: `user:${ALICE}`, action: 'admin.refused', at: '2026-01-03T00:00:01.000Z' }),
    ]);
    const text = JSON.stringify(exported);
    expect(text).not.toContain(BOB);
    expect(text).not.toMatch(/v[12]\.[A-Za-z0-9_-]+\./); // nothing left sealed
  });

  it('forgets every document of the person in every collection, keeps the others, and is idempotent', async () => {
    const bobBefore = await exportUserData(mongo.db, vault, BOB, { now: new Date(0) });
    expect(bobBefore.collections.messages).toHaveLength(2);

    const deleted = await forgetUserData(mongo.db, ALICE);
    expect(deleted).toEqual({ users: 1, messages: 5, risk_events: 1, ...Object.fromEntries(PERSONAL_COLLECTIONS.filter((c) => !['users', 'messages', 'risk_events'].includes(c.name)).map((c) => [c.name, 0])) });

    // Scan every collection in the database, registered or not, for the person's id and texts.
    const retained = new Set(RETAINED_COLLECTIONS.map((c) => c.name));
    const dump = await rawDump(mongo.db);
    expect(Object.keys(dump)).toEqual(expect.arrayContaining(['users', 'messages', 'risk_events', AUDIT_COLLECTION]));
    for (const [name, raw] of Object.entries(dump)) {
      if (retained.has(name)) continue;
      expect(raw).not.toContain(ALICE);
      expect(raw).not.toContain('Alice');
    }
    expect(await store.getUser(ALICE)).toBeNull();
    expect(await store.recentMessages(ALICE, 10)).toEqual([]);
    expect(await store.riskEventsOf(ALICE)).toEqual([]);

    // The other person is untouched.
    expect(await exportUserData(mongo.db, vault, BOB, { now: new Date(0) })).toEqual(bobBefore);

    // Again: nothing left to delete, no error.
    expect(Object.values(await forgetUserData(mongo.db, ALICE)).every((n) => n === 0)).toBe(true);
    const empty = await exportUserData(mongo.db, vault, ALICE, { now: new Date(0) });
    expect(Object.values(empty.collections).every((docs) => docs.length === 0)).toBe(true);
  });

  it('keeps the audit log, which holds ids and outcomes but no text', async () => {
    await recordAudit(mongo.db, { actor: `user:${ALICE}`, action: 'data.forget', subject: ALICE, at: new Date('2026-01-04T00:00:00.000Z'), details: { deleted: 7 }, id: 'forget-u99' });
    await recordAudit(mongo.db, { actor: `user:${ALICE}`, action: 'data.forget', subject: ALICE, at: new Date('2026-01-05T00:00:00.000Z'), id: 'forget-u99' });
    await recordAudit(mongo.db, { actor: 'operator:cli', action: 'keys.rotate', subject: null, at: new Date('2026-01-06T00:00:00.000Z') });
    const entries = await auditEntriesFor(mongo.db, ALICE);
    expect(entries.map((e) => [e.action, e.at.toISOString(), e.details])).toEqual([
      ['data.export', '2026-01-03T00:00:00.000Z', { documents: 6 }],
      ['admin.refused', '2026-01-03T00:00:01.000Z', undefined],
      ['data.forget', '2026-01-04T00:00:00.000Z', { deleted: 7 }], // the retried write changed nothing
    ]);
    const raw = (await rawDump(mongo.db))[AUDIT_COLLECTION] ?? '';
    for (const text of [...ALICE_TEXTS, ...BOB_TEXTS, 'Alice']) expect(raw).not.toContain(text);
    expect(await mongo.db.collection(AUDIT_COLLECTION).countDocuments({})).toBe(5);
  });
});
