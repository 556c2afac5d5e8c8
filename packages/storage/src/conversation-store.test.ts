import { serviceUrls, uniquePrefix } from '@inner-talk/testkit';
import { connectMongo, ConversationStore, type MongoConnection } from './index';

describe('ConversationStore on a MongoDB wire-protocol server', () => {
  let mongo: MongoConnection;
  let store: ConversationStore;

  beforeAll(async () => {
    mongo = await connectMongo(serviceUrls().mongoUrl, uniquePrefix('st').replace(/[^A-Za-z0-9_]/g, '_'));
    store = new ConversationStore(mongo.db);
    await store.ensureIndexes();
  });
  afterAll(async () => {
    await mongo.db.dropDatabase();
    await mongo.close();
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
    await store.saveMessage(msg);
    await store.saveMessage({ ...msg, role: 'assistant', text: 'hi there', at: new Date(2) });
    expect(await mongo.db.collection('messages').countDocuments({ userId: 'tg:2' })).toBe(2);
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
});
