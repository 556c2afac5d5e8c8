import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { ChatInbox } from '@inner-talk/queue';
import { ConsentStore, ConversationStore, connectMongo, SessionStore, type MongoConnection } from '@inner-talk/storage';
import { METRICS, ClusterMetricsWriter } from '@inner-talk/telemetry';
import { serviceUrls, textUpdate, uniquePrefix } from '@inner-talk/testkit';
import { Vault } from '@inner-talk/vault';
import { WorkerAdmin } from './admin';
import { RedisButtonNonces } from './button-nonces';
import { RedisContextCache } from './context-cache';
import { WorkerDataRights } from './data-rights';
import { runInTurn } from './turn-context';
import { RedisUsageLimits } from './usage-limits';

/** Every Redis key under `prefix` and its value (strings, lists, sets, hashes, sorted sets) as text. */
async function redisDump(redis: Redis, prefix: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const key of await redis.keys(`${prefix}:*`)) {
    const type = await redis.type(key);
    if (type === 'string') out[key] = (await redis.get(key)) ?? '';
    else if (type === 'list') out[key] = (await redis.lrange(key, 0, -1)).join('\n');
    else if (type === 'set') out[key] = (await redis.smembers(key)).join('\n');
    else if (type === 'hash') out[key] = JSON.stringify(await redis.hgetall(key));
    else if (type === 'zset') out[key] = (await redis.zrange(key, '0', '-1')).join('\n');
  }
  return out;
}

describe('worker adapters of the conversation: context cache, limits, data rights (real Redis and MongoDB)', () => {
  const redis = new Redis(serviceUrls().redisUrl);
  const vault = Vault.withRandomKey();
  let prefix: string;
  let mongo: MongoConnection;

  beforeEach(async () => {
    prefix = uniquePrefix('adapters');
    mongo = await connectMongo(serviceUrls().mongoUrl, prefix.replace(/[^A-Za-z0-9_]/g, '_'));
  });
  afterEach(async () => {
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length) await redis.del(...keys);
    await mongo.db.dropDatabase();
    await mongo.close();
  });
  afterAll(() => redis.quit());

  it('context cache: sealed at rest, hits and misses counted cluster-wide, invalidated, and a miss when Redis fails', async () => {
    const metrics = new ClusterMetricsWriter(redis, prefix);
    const cache = new RedisContextCache(redis, prefix, { vault, ttlSeconds: 60, metrics });
    expect(await cache.get('tg:1')).toBeNull();
    await cache.set('tg:1', 'Summaries: talked about exam anxiety');
    expect(await cache.get('tg:1')).toBe('Summaries: talked about exam anxiety');
    const raw = await redis.get(cache.keyOf('tg:1'));
    expect(raw).not.toContain('anxiety');
    expect(await redis.ttl(cache.keyOf('tg:1'))).toBeGreaterThan(50);
    // A value moved to another person's key does not open: a miss, not their context.
    await redis.set(cache.keyOf('tg:2'), raw!);
    expect(await cache.get('tg:2')).toBeNull();
    await cache.invalidate('tg:1');
    expect(await cache.get('tg:1')).toBeNull();
    await new Promise((resolve) => setTimeout(resolve, 100));
    // 1 hit (tg:1) and 3 misses (empty, moved value, invalidated), whichever field layout the writer uses.
    const counted = await redis.hgetall(`${prefix}:metrics:${METRICS.contextCache.name}`);
    const total = (result: string) => Object.entries(counted).filter(([k]) => k.includes(result)).reduce((n, [, v]) => n + Number(v), 0);
    expect({ hit: total('hit'), miss: total('miss') }).toEqual({ hit: 1, miss: 3 });

    const broken = new Redis(serviceUrls().redisUrl, { lazyConnect: true, enableOfflineQueue: false });
    const failing = new RedisContextCache(broken, prefix, { vault, ttlSeconds: 60 });
    expect(await failing.get('tg:1')).toBeNull();
    await expect(failing.set('tg:1', 'x')).resolves.toBeUndefined();
    broken.disconnect();
  });

  it('limits: a per-minute message count shared by all workers, once per turn; tokens per day', async () => {
    let now = Date.UTC(2026, 4, 5, 12, 0, 10);
    const limits = new RedisUsageLimits(redis, prefix, { vault, messagesPerMinute: 3, dailyTokenBudget: 100, now: () => now });
    const other = new RedisUsageLimits(redis, prefix, { vault, messagesPerMinute: 3, dailyTokenBudget: 100, now: () => now }); // another worker
    expect(await limits.admit('tg:1', 'u1')).toBe('ok');
    expect(await other.admit('tg:1', 'u2')).toBe('ok');
    expect(await limits.admit('tg:1', 'u2')).toBe('ok'); // the same turn again counts once
    expect(await other.admit('tg:1', 'u3')).toBe('ok');
    expect(await limits.admit('tg:1', 'u4')).toBe('rate');
    expect(await limits.admit('tg:9', 'u5')).toBe('ok'); // someone else is not affected
    now += 60_000;
    expect(await limits.admit('tg:1', 'u6')).toBe('ok');

    await limits.addTokens('tg:1', 60);
    await other.addTokens('tg:1', 50);
    expect(await limits.tokensToday('tg:1')).toBe(110);
    expect(await limits.admit('tg:1', 'u7')).toBe('daily_tokens'); // over the budget of 100
    now += 86_400_000;
    expect(await limits.tokensToday('tg:1')).toBe(0);
  });

  it('limits: a backlog answered in a burst counts by the minutes its messages arrived in', async () => {
    const now = Date.UTC(2026, 4, 5, 12, 5, 0);
    const limits = new RedisUsageLimits(redis, prefix, { vault, messagesPerMinute: 3, dailyTokenBudget: 100, now: () => now });
    // Six messages written over two minutes at an ordinary pace, all answered now (after an outage).
    const arrivals = [0, 20, 40, 60, 80, 100].map((s) => Date.UTC(2026, 4, 5, 12, 0, 0) + s * 1000);
    for (const [i, at] of arrivals.entries()) expect(await runInTurn(at, () => limits.admit('tg:1', `u${i}`))).toBe('ok');
    // A fourth message within one minute of writing is still over the limit.
    expect(await runInTurn(arrivals[0]! + 30_000, () => limits.admit('tg:1', 'u9'))).toBe('rate');
  });

  it('export returns every document opened; forget deletes MongoDB, the cache, limit counters, dead letters and button nonces, audited without text', async () => {
    const userId = 'tg:4242';
    const store = new ConversationStore(mongo.db, { vault });
    const sessions = new SessionStore(mongo.db, { vault });
    const consents = new ConsentStore(mongo.db);
    const inbox = new ChatInbox(redis, prefix, vault);
    const cache = new RedisContextCache(redis, prefix, { vault, ttlSeconds: 60 });
    const limits = new RedisUsageLimits(redis, prefix, { vault, messagesPerMinute: 10, dailyTokenBudget: 1000 });
    const nonces = new RedisButtonNonces(redis, prefix, vault);
    const rights = new WorkerDataRights({
      db: mongo.db,
      vault,
      redis,
      inbox,
      redisKeysOf: (id) => [...cache.keysOf(id), ...limits.keyPatterns(id)],
      lastRedisKeysOf: (id) => nonces.keysOf(id),
    });

    await consents.grantConsent(userId, 'en', new Date());
    await store.touchUser(userId, 'en', new Date());
    await store.saveMessage({ userId, turnKey: 'u1', role: 'user', text: 'my very private words', at: new Date(), sessionId: 's1' });
    await sessions.start({ id: 's1', userId, at: new Date(), turnKey: 'u1', previousSessionId: null });
    await sessions.end({ id: 's1', at: new Date(), reason: 'command', turnKey: 'u2', summary: 'a private summary' });
    await cache.set(userId, 'cached private context');
    await limits.admit(userId, 'u1');
    await limits.addTokens(userId, 10);
    await nonces.issue(userId, 'forget', 'u3', 'forgetNonce1');
    await nonces.issue(userId, 'history', 'u2', 'historyNonc1');
    // A message that failed for good: its payload (with text) waits in the dead letters.
    const poison = textUpdate(77, 4242, 'my very private words again');
    await inbox.push(poison, Date.now(), 'trace-1', 60_000);
    const chat = inbox.pseudonymOf('4242');
    await inbox.acquire(chat, 'job-1', 10_000);
    await inbox.deadLetter({ chat, updateIds: [77], error: {}, attempts: 4, at: Date.now() });
    await inbox.done(chat, 'job-1', 77, 1, true); // as the drainer does after dead-lettering
    // Someone else's data must survive.
    await store.saveMessage({ userId: 'tg:7', turnKey: 'u1', role: 'user', text: 'not yours', at: new Date() });
    await cache.set('tg:7', 'their context');

    // Before any forget: key names carry pseudonyms, values no text or id.
    const before = await redisDump(redis, prefix);
    expect(Object.keys(before).length).toBeGreaterThanOrEqual(4); // context, limit counters, dead letter
    expect(JSON.stringify(before)).not.toMatch(/4242|private/);

    const exported = JSON.parse(await rights.exportData(userId, 'u3')) as { collections: Record<string, Array<Record<string, unknown>>> };
    expect(exported.collections.messages?.map((m) => m.text)).toEqual(['my very private words']);
    expect(exported.collections.sessions?.map((s) => s.summary)).toEqual(['a private summary']);
    expect(exported.collections.consents).toHaveLength(1);

    await rights.forget(userId, 'u4');
    await rights.forget(userId, 'u4'); // idempotent

    // Nothing of the person anywhere: MongoDB (except the audit log), Redis.
    for (const { name } of await mongo.db.listCollections().toArray()) {
      if (name === 'audit_log') continue;
      const docs = JSON.stringify(await mongo.db.collection(name).find({}).toArray());
      expect({ name, found: docs.includes('4242') }).toEqual({ name, found: false });
    }
    const dump = JSON.stringify(await redisDump(redis, prefix));
    expect(dump).not.toContain('4242');
    expect(dump).not.toContain('private');
    expect(await cache.get('tg:7')).toBe('their context');
    expect(await store.recentMessages('tg:7', 10)).toHaveLength(1);

    const audit = await mongo.db.collection('audit_log').find({ subject: userId }).toArray();
    expect(audit.map((a) => a.action).sort()).toEqual(['data.export', 'data.forget']);
    expect(JSON.stringify(audit)).not.toContain('private');
  });

  it('admin console: allowlisted ids only, counts and ids without any text, every access audited', async () => {
    const store = new ConversationStore(mongo.db, { vault });
    const consents = new ConsentStore(mongo.db);
    const inbox = new ChatInbox(redis, prefix, vault);
    const queue = new Queue('admin-test', { connection: redis, prefix });
    try {
      const admin = new WorkerAdmin({ adminIds: new Set(['1']), db: mongo.db, redis, prefix, queue, riskEventCounts: (since) => store.riskEventCounts(since) });
      await consents.grantConsent('tg:5', 'en', new Date());
      await store.touchUser('tg:5', 'en', new Date());
      await store.recordRiskEvent({ userId: 'tg:5', turnKey: 'u1', level: 'high', sources: ['phrases'], at: new Date() });
      await inbox.push(textUpdate(9, 5, 'a secret sentence'), Date.now(), 't', 60_000);
      await inbox.deadLetter({ chat: inbox.pseudonymOf('5'), updateIds: [9], error: { type: 'Error' }, attempts: 4, at: Date.now() });

      expect(admin.isAdmin('tg:1')).toBe(true);
      expect(admin.isAdmin('tg:5')).toBe(false);
      expect(admin.isAdmin('web:1')).toBe(false);
      const stats = await admin.run('tg:1', 'stats', 'u10');
      expect(stats).toContain('people: 1 (consented: 1)');
      expect(stats).toContain('risk events in 24 h: high 1, low 0');
      expect(stats).toContain('dead letters: 1');
      const letters = await admin.run('tg:1', 'deadletters', 'u11');
      expect(letters).toContain(`chat ${inbox.pseudonymOf('5')} update 9`);
      expect(letters + stats).not.toContain('secret');
      expect(await admin.run('tg:1', '', 'u12')).toContain('/admin stats');
      await admin.refused('tg:5', 'u13');

      const audit = await mongo.db.collection('audit_log').find({}).sort({ at: 1 }).toArray();
      expect(audit.map((a) => [a.actor, a.action]).sort()).toEqual([
        ['admin:tg:1', 'admin.deadletters'],
        ['admin:tg:1', 'admin.help'],
        ['admin:tg:1', 'admin.stats'],
        ['user:tg:5', 'admin.refused'],
      ]);
    } finally {
      await queue.close();
    }
  });
});
