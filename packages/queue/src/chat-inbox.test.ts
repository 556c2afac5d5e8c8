import { randomBytes } from 'node:crypto';
import { Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { redisDump, serviceUrls, textUpdate, uniquePrefix, waitFor } from '@inner-talk/testkit';
import { Vault } from '@inner-talk/vault';
import { ChatInbox, QUEUE_NAMES, UpdateQueue, chatKeyPrefix, drainJobId, finishedJobData, queueDrain, removeFailedJobsOf } from './index';

const K1 = randomBytes(32);
const K2 = randomBytes(32);
const PERSON = 424_242;

describe('ChatInbox at rest (real Redis)', () => {
  const redis = new Redis(serviceUrls().redisUrl);
  const vault = new Vault({ keys: { k1: K1 }, currentKeyId: 'k1' });
  let prefix: string;

  beforeEach(() => {
    prefix = uniquePrefix('inbox');
  });
  afterEach(async () => {
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length) await redis.del(...keys);
  });
  afterAll(() => redis.quit());

  it('keeps neither the text, the name nor the chat id in any key name or value; the worker side opens the entry', async () => {
    const queue = new UpdateQueue({ connection: redis, prefix, vault, dedupeTtlMs: 60_000 });
    try {
      const update = textUpdate(5, PERSON, 'a marker-word-quokka secret', { firstName: 'Zelinda' });
      const { chat } = await queue.enqueue(update, 1000, 'trace-5');
      await queue.inbox.deadLetter({ chat, updateIds: [5], error: { type: 'Error' }, attempts: 4, at: 2000 });
      expect(chat).toBe(queue.inbox.pseudonymOf(String(PERSON)));
      expect(chat).not.toContain(String(PERSON));

      const dump = JSON.stringify(await redisDump(redis, prefix));
      expect(dump).toContain(chat); // the job and the inbox are there, under the pseudonym
      for (const secret of [String(PERSON), 'quokka', 'Zelinda']) expect({ secret, found: dump.includes(secret) }).toEqual({ secret, found: false });

      expect(await queue.inbox.peek(chat, 10)).toEqual([{ updateId: 5, update, receivedAt: 1000, traceId: 'trace-5' }]);
      expect((await queue.queue.getJob('u5'))?.data).toEqual({ chat, updateId: 5, traceId: 'trace-5' });
    } finally {
      await queue.queue.obliterate({ force: true });
      await queue.close();
    }
  });

  it('does not open an entry moved to another chat\'s inbox', async () => {
    const inbox = new ChatInbox(redis, prefix, vault);
    const { chat } = await inbox.push(textUpdate(1, PERSON, 'hello'), 1, 't', 60_000);
    const other = inbox.pseudonymOf('99');
    const [entry] = await redis.lrange(`${chatKeyPrefix(prefix, chat)}inbox`, 0, 0);
    await redis.rpush(`${chatKeyPrefix(prefix, other)}inbox`, entry!);
    expect(await inbox.peek(other, 1)).toEqual([expect.objectContaining({ updateId: 1, update: { update_id: 1 }, unreadable: true })]);
  });

  it('gives an entry sealed under a retired key back as unreadable (only its update_id), so the chat is not stuck', async () => {
    const inbox = new ChatInbox(redis, prefix, vault);
    const chat = inbox.pseudonymOf(String(PERSON));
    const entry = `7|${new Vault({ keys: { k0: K2 }, currentKeyId: 'k0' }).seal('{}')}`;
    await redis.rpush(`${chatKeyPrefix(prefix, chat)}inbox`, entry);
    await inbox.push(textUpdate(8, PERSON, 'readable'), 8, 't8', 60_000);
    const [first, second] = await inbox.peek(chat, 10);
    expect(first).toMatchObject({ updateId: 7, update: { update_id: 7 }, unreadable: true });
    expect(second).toMatchObject({ updateId: 8, update: { message: { text: 'readable' } } });
    expect(second?.unreadable).toBeUndefined();
  });

  it('keeps a chat under its old pseudonym across a key change while it has queued work, then moves on', async () => {
    const before = new ChatInbox(redis, prefix, vault);
    const after = new ChatInbox(redis, prefix, new Vault({ keys: { k2: K2, k1: K1 }, currentKeyId: 'k2' }));
    const old = before.pseudonymOf(String(PERSON));
    const fresh = after.pseudonymOf(String(PERSON));
    expect(fresh).not.toBe(old);
    expect(after.pseudonymsOf(String(PERSON))).toEqual([fresh, old]);

    expect(await before.push(textUpdate(1, PERSON, 'one'), 1, 't1', 60_000)).toEqual({ chat: old, appended: true });
    // The new key is current now, but update 1 still waits: update 2 queues behind it, in order.
    expect(await after.push(textUpdate(2, PERSON, 'two'), 2, 't2', 60_000)).toEqual({ chat: old, appended: true });
    expect((await after.peek(old, 10)).map((e) => e.updateId)).toEqual([1, 2]);
    await after.acquire(old, 'job', 5000);
    expect(await after.done(old, 'job', 1, 2, true)).toEqual({ kind: 'left', left: 0 });
    // A redelivery of update 2 is still recognised (its marker lives under the old name).
    expect(await after.push(textUpdate(2, PERSON, 'two'), 3, 't2', 60_000)).toEqual({ chat: old, appended: false });
    // Nothing waits under the old name any more: new updates use the new one.
    expect(await after.push(textUpdate(3, PERSON, 'three'), 4, 't3', 60_000)).toEqual({ chat: fresh, appended: true });
  });

  it('forget deletes the chat\'s markers and dead letters under every pseudonym, and nothing of others', async () => {
    const ring = new ChatInbox(redis, prefix, new Vault({ keys: { k2: K2, k1: K1 }, currentKeyId: 'k2' }));
    const before = new ChatInbox(redis, prefix, vault);
    const old = before.pseudonymOf(String(PERSON));
    await before.push(textUpdate(1, PERSON, 'one'), 1, 't1', 60_000);
    await before.acquire(old, 'job', 5000);
    await before.deadLetter({ chat: old, updateIds: [1], error: {}, attempts: 4, at: 1 });
    await before.done(old, 'job', 1, 1, true);
    const { chat: fresh } = await ring.push(textUpdate(2, PERSON, 'two'), 2, 't2', 60_000);
    await ring.turnSize(fresh, 2, 1);
    const { chat: other } = await ring.push(textUpdate(3, 77, 'someone else'), 3, 't3', 60_000);

    await ring.forget(String(PERSON));
    const left = Object.keys(await redisDump(redis, prefix));
    expect(left.filter((k) => k.includes(old))).toEqual([]);
    // The live inbox stays (the turn that asked holds it); its markers go.
    expect(left.filter((k) => k.includes(fresh))).toEqual([`${chatKeyPrefix(prefix, fresh)}inbox`]);
    expect(left.filter((k) => k.includes(other)).length).toBeGreaterThan(0);
    expect(await redis.zrange(`${prefix}:dead-letters`, '0', '-1')).toEqual([]);
  });
});

describe('drain jobs do not name the chat once finished', () => {
  const redis = new Redis(serviceUrls().redisUrl);
  const vault = Vault.withRandomKey();
  afterAll(() => redis.quit());

  it('hashes the chat into hand-over and sweep job ids, keeps no chat in finished job data, and removes a chat\'s failed jobs', async () => {
    const prefix = uniquePrefix('jobs');
    const queue = new UpdateQueue({ connection: redis, prefix, vault, dedupeTtlMs: 60_000 });
    try {
      const chat = queue.inbox.pseudonymOf(String(PERSON));
      expect(drainJobId(chat, 's1')).toBe(drainJobId(chat, 's1'));
      expect(drainJobId(chat, 's1')).not.toContain(chat);
      expect(drainJobId(chat, 's1')).toMatch(/^c[A-Za-z0-9_-]{22}$/);
      await queueDrain(queue.queue, chat, 's1');
      await queueDrain(queue.queue, chat, 's1'); // a racing sweeper adds no second job
      expect(await queue.queue.getWaitingCount()).toBe(1);
      expect(Object.keys(await redisDump(redis, prefix)).filter((k) => k.includes(chat))).toEqual([]);

      expect(finishedJobData({ chat, updateId: 5, traceId: 't' })).toEqual({ updateId: 5, traceId: 't' });
      expect(finishedJobData({ chat })).toEqual({});

      // Jobs that failed for good: one of the chat, one of someone else.
      await queue.queue.remove(drainJobId(chat, 's1'));
      await queue.queue.add('update', { chat, updateId: 1 }, { jobId: 'u1', attempts: 1 });
      await queue.queue.add('update', { chat: 'someone-else', updateId: 2 }, { jobId: 'u2', attempts: 1 });
      const connection = new Redis(serviceUrls().redisUrl, { maxRetriesPerRequest: null });
      const worker = new Worker(QUEUE_NAMES.updates, () => Promise.reject(new Error('failing on purpose')), { connection, prefix });
      try {
        await waitFor(async () => (await queue.queue.getFailedCount()) === 2, { timeoutMs: 15_000, message: 'two failed jobs' });
      } finally {
        await worker.close();
        connection.disconnect();
      }
      expect(await removeFailedJobsOf(queue.queue, [chat, 'unused'])).toBe(1);
      expect((await queue.queue.getFailed()).map((j) => j.id)).toEqual(['u2']);
    } finally {
      await queue.queue.obliterate({ force: true });
      await queue.close();
    }
  }, 20_000);
});
