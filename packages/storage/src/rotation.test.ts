import { createCipheriv, randomBytes } from 'node:crypto';
import type { Collection, Db } from 'mongodb';
import { Vault } from '@inner-talk/vault';
import { serviceUrls, uniquePrefix } from '@inner-talk/testkit';
import { connectMongo, ConversationStore, recordAad, rotateKeys, type MongoConnection } from './index';

const K1 = randomBytes(32);
const K2 = randomBytes(32);
const vaultK1 = new Vault({ keys: { k1: K1 }, currentKeyId: 'k1' });
const vaultK1K2 = new Vault({ keys: { k1: K1, k2: K2 }, currentKeyId: 'k2' });
const vaultK2 = new Vault({ keys: { k2: K2 }, currentKeyId: 'k2' });

/** `db` whose `updateOne` on `messages` first runs `before` (once): a write that lands between rotation's read and write. */
function withRaceBeforeUpdate(db: Db, before: () => Promise<void>): Db {
  let pending: (() => Promise<void>) | undefined = before;
  return new Proxy(db, {
    get(target, prop, receiver) {
      if (prop !== 'collection') return Reflect.get(target, prop, receiver) as unknown;
      return (name: string) => {
        const collection = target.collection(name);
        if (name !== 'messages') return collection;
        return new Proxy(collection, {
          get(c, p, r) {
            if (p !== 'updateOne') return Reflect.get(c, p, r) as unknown;
            return async (...args: Parameters<Collection['updateOne']>) => {
              const race = pending;
              pending = undefined;
              if (race) await race();
              return c.updateOne(...args);
            };
          },
        });
      };
    },
  });
}

describe('key rotation over stored data', () => {
  let mongo: MongoConnection;

  beforeEach(async () => {
    mongo = await connectMongo(serviceUrls().mongoUrl, uniquePrefix('rotate'));
  });
  afterEach(async () => {
    await mongo.db.dropDatabase();
    await mongo.close();
  });

  it('moves every sealed field to the current key and seals plaintext leftovers; texts unchanged; a second run does nothing', async () => {
    const before = new ConversationStore(mongo.db, { vault: vaultK1 });
    const texts = Array.from({ length: 250 }, (_, i) => `message ${i}: ${i % 3 === 0 ? 'тревожно 😟' : 'ok'}`);
    await Promise.all(texts.map((text, i) => before.saveMessage({ userId: `tg:${i % 7}`, turnKey: `u${i}`, role: 'user', text, at: new Date(i) })));
    await mongo.db.collection('messages').insertOne({ _id: 'tg:0|legacy|user' as never, userId: 'tg:0', turnKey: 'legacy', role: 'user', text: 'plaintext from 2025', at: new Date(-1) });

    const started = performance.now();
    const first = await rotateKeys(mongo.db, vaultK1K2, { batchSize: 40 });
    const ms = performance.now() - started;
    expect(first).toMatchObject({ scanned: 251, resealed: 250, plaintextSealed: 1, skipped: 0, unreadable: 0 });
    expect(first.collections.messages).toEqual({ scanned: 251, resealed: 250, plaintextSealed: 1, skipped: 0, unreadable: 0 });
    console.log(`rotated 251 messages in ${ms.toFixed(0)} ms (batch 40)`);

    const raw = await mongo.db.collection('messages').find({}).toArray();
    expect(raw).toHaveLength(251);
    for (const doc of raw) expect(vaultK1K2.keyIdOf(doc.text as string)).toBe('k2');

    // k1 can now be retired: a ring holding k2 alone reads everything, unchanged.
    const after = new ConversationStore(mongo.db, { vault: vaultK2 });
    const read: string[] = [];
    for (let u = 0; u < 7; u++) read.push(...(await after.recentMessages(`tg:${u}`, 1000)).map((m) => m.text));
    expect(read.sort()).toEqual([...texts, 'plaintext from 2025'].sort());

    const second = await rotateKeys(mongo.db, vaultK1K2, { batchSize: 40 });
    expect(second).toMatchObject({ scanned: 251, resealed: 0, plaintextSealed: 0, skipped: 0, unreadable: 0 });
    expect((await mongo.db.collection('messages').find({}).toArray()).map((d) => d.text)).toEqual(raw.map((d) => d.text));
  }, 30_000);

  it('re-seals values of the unpadded v1 format in the padded format, under the same key', async () => {
    const id = 'tg:5|u1|user';
    // A v1 value as the vault sealed texts before padding existed: ciphertext as long as the text.
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', K1, iv, { authTagLength: 16 });
    cipher.setAAD(Buffer.from(`v1.k1\u0000${recordAad('messages', id)}`, 'utf8'));
    const ciphertext = Buffer.concat([cipher.update('kept since v1', 'utf8'), cipher.final()]);
    const v1 = ['v1', 'k1', iv.toString('base64url'), cipher.getAuthTag().toString('base64url'), ciphertext.toString('base64url')].join('.');
    await mongo.db.collection('messages').insertOne({ _id: id as never, userId: 'tg:5', turnKey: 'u1', role: 'user', text: v1, at: new Date(1) });

    expect(await rotateKeys(mongo.db, vaultK1)).toMatchObject({ scanned: 1, resealed: 1, unreadable: 0 });
    const text = (await mongo.db.collection('messages').findOne({ _id: id as never }))?.text as string;
    expect(text).toMatch(/^v2\.k1\./);
    expect(Buffer.from(text.split('.')[4] as string, 'base64url').length).toBe(32);
    expect((await new ConversationStore(mongo.db, { vault: vaultK1 }).recentMessages('tg:5', 1))[0]?.text).toBe('kept since v1');
    expect(await rotateKeys(mongo.db, vaultK1)).toMatchObject({ scanned: 1, resealed: 0 });
  });

  it('seals the plaintext level and sources of risk events stored before they were sealed; they read the same', async () => {
    await mongo.db.collection('risk_events').insertOne({ _id: 'tg:8|u1' as never, userId: 'tg:8', level: 'high', sources: ['phrases', 'classifier'], at: new Date(1) });
    const result = await rotateKeys(mongo.db, vaultK1);
    expect(result.collections.risk_events).toMatchObject({ scanned: 1, plaintextSealed: 2, skipped: 0 });
    const raw = await mongo.db.collection('risk_events').findOne({ _id: 'tg:8|u1' as never });
    expect(vaultK1.isSealed(raw?.level)).toBe(true);
    expect(vaultK1.isSealed(raw?.sources)).toBe(true);
    expect(await new ConversationStore(mongo.db, { vault: vaultK1 }).riskEventsOf('tg:8')).toEqual([
      { _id: 'tg:8|u1', userId: 'tg:8', level: 'high', sources: ['phrases', 'classifier'], at: new Date(1) },
    ]);
    expect((await rotateKeys(mongo.db, vaultK1)).collections.risk_events).toMatchObject({ plaintextSealed: 0 });
  });

  it('never overwrites a value changed between its read and its write', async () => {
    const store = new ConversationStore(mongo.db, { vault: vaultK1 });
    await store.saveMessage({ userId: 'tg:1', turnKey: 'u1', role: 'user', text: 'original', at: new Date(1) });
    const id = 'tg:1|u1|user';
    // Another process (already on the new ring) rewrites the text after rotation has read it.
    const concurrent = vaultK1K2.seal('rewritten meanwhile', recordAad('messages', id));
    const racing = withRaceBeforeUpdate(mongo.db, async () => {
      await mongo.db.collection('messages').updateOne({ _id: id as never }, { $set: { text: concurrent } });
    });
    const result = await rotateKeys(racing, vaultK1K2);
    expect(result).toMatchObject({ scanned: 1, resealed: 0, skipped: 1 });
    expect((await mongo.db.collection('messages').findOne({ _id: id as never }))?.text).toBe(concurrent);
    expect((await new ConversationStore(mongo.db, { vault: vaultK1K2 }).recentMessages('tg:1', 1))[0]?.text).toBe('rewritten meanwhile');
  });

  it('skips a document forgotten meanwhile, and counts values it cannot open without stopping', async () => {
    const store = new ConversationStore(mongo.db, { vault: vaultK1 });
    await store.saveMessage({ userId: 'tg:1', turnKey: 'u1', role: 'user', text: 'one', at: new Date(1) });
    await store.saveMessage({ userId: 'tg:2', turnKey: 'u2', role: 'user', text: 'two', at: new Date(2) });
    // Sealed under a key the ring does not hold.
    await new ConversationStore(mongo.db, { vault: Vault.withRandomKey('k9') }).saveMessage({ userId: 'tg:3', turnKey: 'u3', role: 'user', text: 'three', at: new Date(3) });
    const racing = withRaceBeforeUpdate(mongo.db, async () => {
      await mongo.db.collection('messages').deleteMany({ userId: 'tg:1' });
    });
    const result = await rotateKeys(racing, vaultK1K2, { batchSize: 1 });
    expect(result).toMatchObject({ scanned: 3, resealed: 1, skipped: 1, unreadable: 1 });
    expect(await mongo.db.collection('messages').countDocuments({})).toBe(2);
    expect(vaultK1K2.keyIdOf((await mongo.db.collection('messages').findOne({ userId: 'tg:3' }))?.text as string)).toBe('k9');
  });
});
