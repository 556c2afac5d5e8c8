import { BSON } from 'mongodb';
import { Vault } from '@inner-talk/vault';
import { serviceUrls, uniquePrefix } from '@inner-talk/testkit';
import { connectMongo, ConversationStore, SealedFieldUnreadableError, type MongoConnection } from './index';

describe('ConversationStore on a MongoDB wire-protocol server', () => {
  let mongo: MongoConnection;
  let store: ConversationStore;
  const vault = Vault.withRandomKey('k1');

  beforeAll(async () => {
    mongo = await connectMongo(serviceUrls().mongoUrl, uniquePrefix('st').replace(/[^A-Za-z0-9_]/g, '_'));
    store = new ConversationStore(mongo.db, { vault });
    await store.ensureIndexes();
  });
  afterAll(async () => {
    await mongo.db.dropDatabase();
    await mongo.close();
  });

  it('refuses to run without a vault', () => {
    expect(() => new ConversationStore(mongo.db, undefined as never)).toThrow(TypeError);
    expect(() => new ConversationStore(mongo.db, {} as never)).toThrow(TypeError);
  });

  it('creates a user once and refreshes lastSeenAt', async () => {
    await store.touchUser('tg:1', 'en', new Date(1000));
    await store.touchUser('tg:1', 'ru', new Date(2000));
    const user = await store.getUser('tg:1');
    expect(user).toMatchObject({ _id: 'tg:1', locale: 'ru', createdAt: new Date(1000), lastSeenAt: new Date(2000) });
    expect(await mongo.db.collection('users').countDocuments({})).toBe(1);
  });

  it('stores each message of a turn once, however often it is written', async () => {
    const msg = { userId: 'tg:2', turnKey: 'u10', role: 'user' as const, text: 'hello', at: new Date(1) };
    await store.saveMessage(msg);
    const first = await mongo.db.collection('messages').findOne({ _id: 'tg:2|u10|user' as never });
    await store.saveMessage(msg);
    await store.saveMessage({ ...msg, role: 'assistant', text: 'hi there', at: new Date(2) });
    expect(await mongo.db.collection('messages').countDocuments({ userId: 'tg:2' })).toBe(2);
    // The second write did not replace the stored (differently encrypted) value.
    expect((await mongo.db.collection('messages').findOne({ _id: 'tg:2|u10|user' as never }))?.text).toBe(first?.text);
    expect(await store.findReply('tg:2', 'u10')).toBe('hi there');
    expect(await store.findReply('tg:2', 'u11')).toBeNull();
  });

  it('returns the most recent messages oldest first', async () => {
    for (let i = 0; i < 5; i++) {
      await store.saveMessage({ userId: 'tg:3', turnKey: `u${i}`, role: 'user', text: `m${i}`, at: new Date(100 + i) });
    }
    const recent = await store.recentMessages('tg:3', 3);
    expect(recent.map((m) => m.text)).toEqual(['m2', 'm3', 'm4']);
  });

  it('keeps no plaintext of any message in MongoDB, and reads every message back', async () => {
    const texts = [
      'I have not told anyone that I feel empty since March',
      'Мне страшно признаться маме, что я бросил учёбу',
      'panic attacks at work 😰😰 again, third time this week',
      'Long '.repeat(800) + 'end',
    ];
    for (const [i, text] of texts.entries()) {
      await store.saveMessage({ userId: 'tg:4', turnKey: `t${i}`, role: 'user', text, at: new Date(1000 + i * 2) });
      await store.saveMessage({ userId: 'tg:4', turnKey: `t${i}`, role: 'assistant', text: `Re: ${text}`, at: new Date(1001 + i * 2) });
    }
    const raw = BSON.EJSON.stringify(await mongo.db.collection('messages').find({ userId: 'tg:4' }).toArray());
    expect(raw).toContain('"userId":"tg:4"');
    for (const text of texts) {
      // Whole texts, and every word of six letters or more (shorter ones turn up in base64 by chance).
      for (const fragment of [text, ...text.split(/[\s,]+/).filter((w) => w.length >= 6)]) expect(raw).not.toContain(fragment);
    }
    const docs = await mongo.db.collection('messages').find({ userId: 'tg:4' }).toArray();
    for (const doc of docs) expect(vault.keyIdOf(doc.text as string)).toBe('k1');

    const recent = await store.recentMessages('tg:4', 100);
    expect(recent.map((m) => m.text)).toEqual(texts.flatMap((t) => [t, `Re: ${t}`]));
    expect(await store.findReply('tg:4', 't1')).toBe(`Re: ${texts[1]}`);
  });

  it('seals the level and sources of risk events (their lengths equal whatever the level), opens them on read, and counts them', async () => {
    const at = new Date(Date.now() - 60_000);
    await store.recordRiskEvent({ userId: 'tg:60', turnKey: 'u1', level: 'high', sources: ['phrases', 'classifier'], at });
    await store.recordRiskEvent({ userId: 'tg:60', turnKey: 'u1', level: 'low', sources: ['phrases'], at }); // a retry: stored once
    await store.recordRiskEvent({ userId: 'tg:61', turnKey: 'u2', level: 'low', sources: ['classifier'], at });
    // Stored before sealing existed: plaintext, sources as an array.
    await mongo.db.collection('risk_events').insertOne({ _id: 'tg:60|u0' as never, userId: 'tg:60', level: 'low', sources: ['phrases'], at: new Date(1) });

    const raw = await mongo.db.collection('risk_events').find({ userId: { $in: ['tg:60', 'tg:61'] }, at }).toArray();
    expect(raw).toHaveLength(2);
    for (const doc of raw) {
      expect(vault.isSealed(doc.level)).toBe(true);
      expect(vault.isSealed(doc.sources)).toBe(true);
      expect(JSON.stringify(doc)).not.toMatch(/phrases|classifier/);
    }
    expect(new Set(raw.map((d) => (d.level as string).length)).size).toBe(1);
    expect(new Set(raw.map((d) => (d.sources as string).length)).size).toBe(1);

    expect(await store.riskEventsOf('tg:60')).toEqual([
      { _id: 'tg:60|u0', userId: 'tg:60', level: 'low', sources: ['phrases'], at: new Date(1) },
      { _id: 'tg:60|u1', userId: 'tg:60', level: 'high', sources: ['phrases', 'classifier'], at },
    ]);
    expect(await store.riskEventCounts(new Date(at.getTime() - 1))).toEqual({ high: 1, low: 1 });
  });

  it('still reads texts stored as plaintext before encryption existed', async () => {
    await mongo.db.collection('messages').insertMany([
      { _id: 'tg:5|old1|user' as never, userId: 'tg:5', turnKey: 'old1', role: 'user', text: 'written in 2025', at: new Date(1) },
      { _id: 'tg:5|old1|assistant' as never, userId: 'tg:5', turnKey: 'old1', role: 'assistant', text: 'an old reply', at: new Date(2) },
    ]);
    await store.saveMessage({ userId: 'tg:5', turnKey: 'new1', role: 'user', text: 'written today', at: new Date(3) });
    expect((await store.recentMessages('tg:5', 10)).map((m) => m.text)).toEqual(['written in 2025', 'an old reply', 'written today']);
    expect(await store.findReply('tg:5', 'old1')).toBe('an old reply');
  });

  it('detects a sealed text moved to another message', async () => {
    await store.saveMessage({ userId: 'tg:6', turnKey: 'a', role: 'assistant', text: 'reply A', at: new Date(1) });
    await store.saveMessage({ userId: 'tg:6', turnKey: 'b', role: 'assistant', text: 'reply B', at: new Date(2) });
    const messages = mongo.db.collection('messages');
    const a = await messages.findOne({ _id: 'tg:6|a|assistant' as never });
    await messages.updateOne({ _id: 'tg:6|b|assistant' as never }, { $set: { text: a?.text } });
    expect(await store.findReply('tg:6', 'a')).toBe('reply A');
    const error = await store.findReply('tg:6', 'b').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SealedFieldUnreadableError);
    expect(error).toMatchObject({ collection: 'messages', documentId: 'tg:6|b|assistant', field: 'text' });
    expect((error as Error).message).not.toContain('reply');
  });

  it('cannot read what another key sealed', async () => {
    const other = new ConversationStore(mongo.db, { vault: Vault.withRandomKey('k2') });
    await other.saveMessage({ userId: 'tg:7', turnKey: 'x', role: 'assistant', text: 'under k2', at: new Date(1) });
    await expect(store.findReply('tg:7', 'x')).rejects.toBeInstanceOf(SealedFieldUnreadableError);
    expect(await other.findReply('tg:7', 'x')).toBe('under k2');
  });
});
