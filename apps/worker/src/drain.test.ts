import { Bot, GrammyError } from 'grammy';
import type { UserFromGetMe } from 'grammy/types';
import { Redis } from 'ioredis';
import { MongoClient, MongoServerSelectionError } from 'mongodb';
import { TurnDeferredError } from '@inner-talk/conversation';
import { AllProvidersUnavailableError } from '@inner-talk/gateway';
import { ChatInbox, deadLettersKey, type InboxEntry } from '@inner-talk/queue';
import { ActivePeople, ClusterMetricsWriter, createLogger } from '@inner-talk/telemetry';
import { serviceUrls, uniquePrefix } from '@inner-talk/testkit';
import { Vault } from '@inner-talk/vault';
import { ChatDrainer, type DrainPolicy } from './drain';

const BOT_INFO = { id: 1, is_bot: true, first_name: 'T', username: 't_bot' } as UserFromGetMe;
const CHAT = 777;

// Commands carry their bot_command entity, as Telegram sends them.
const textUpdate = (updateId: number, text: string, fromId = CHAT) => ({
  update_id: updateId,
  message: {
    message_id: updateId,
    date: 0,
    chat: { id: CHAT, type: 'private' },
    from: { id: fromId, is_bot: false, first_name: 'P' },
    text,
    ...(text.startsWith('/') && { entities: [{ type: 'bot_command', offset: 0, length: text.split(' ')[0]!.length }] }),
  },
});

type Behaviour = (text: string) => void | Promise<void>;

describe('ChatDrainer against real Redis', () => {
  const redis = new Redis(serviceUrls().redisUrl);
  let prefix: string;
  let inbox: ChatInbox;
  let handled: string[];
  let notified: number[];
  let behaviour: Behaviour;
  let clock: number;
  let closing: boolean;
  const vault = Vault.withRandomKey();
  /** The chat's name in Redis and job data: its pseudonym. */
  const chat = () => inbox.pseudonymOf(String(CHAT));

  const policy = (over: Partial<DrainPolicy> = {}): DrainPolicy => ({
    leaseMs: 5_000,
    maxAttempts: 3,
    maxTurnsPerJob: 100,
    retryBaseMs: 1_000,
    retryMaxMs: 30_000,
    coalesce: { windowMs: 0, maxMessages: 10, maxChars: 8_000 },
    ...over,
  });

  const drainer = (over: Partial<DrainPolicy> = {}, activePeople?: ActivePeople) => {
    const bot = new Bot('1:test', { botInfo: BOT_INFO });
    bot.on('message:text', async (ctx) => {
      await behaviour(ctx.message.text);
      handled.push(ctx.message.text);
    });
    return new ChatDrainer({
      bot,
      inbox,
      reports: new Map(),
      metrics: new ClusterMetricsWriter(redis, prefix),
      logger: createLogger({ app: 'test', level: 'silent' }),
      policy: policy(over),
      runTurn: (_chat, _key, handle) => handle(),
      notifyDeadLetter: async (entry: InboxEntry) => {
        notified.push(entry.updateId);
      },
      isClosing: () => closing,
      now: () => clock,
      ...(activePeople && { activePeople }),
    });
  };

  const push = async (updateId: number, text: string, receivedAt = clock, fromId = CHAT) =>
    inbox.push(textUpdate(updateId, text, fromId), receivedAt, `t${updateId}`, 60_000);

  beforeEach(() => {
    prefix = uniquePrefix('drain');
    inbox = new ChatInbox(redis, prefix, vault);
    handled = [];
    notified = [];
    behaviour = () => undefined;
    clock = Date.now();
    closing = false;
  });
  afterEach(async () => {
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length) await redis.del(...keys);
  });
  afterAll(() => redis.quit());

  it('handles a chat\'s updates in arrival order, empties the inbox and releases the lock', async () => {
    for (let i = 1; i <= 5; i += 1) await push(i, `m${i}`);
    expect(await drainer().drain(chat(), 'job-a')).toEqual({ kind: 'drained', turns: 5 });
    expect(handled).toEqual(['m1', 'm2', 'm3', 'm4', 'm5']);
    expect(await inbox.length(chat())).toBe(0);
    expect(await inbox.acquire(chat(), 'job-b', 1000)).toBe(true);
  });

  it('leaves the chat to the job that holds it', async () => {
    await push(1, 'm1');
    expect(await inbox.acquire(chat(), 'job-a', 5000)).toBe(true);
    expect(await drainer().drain(chat(), 'job-b')).toEqual({ kind: 'merged' });
    expect(handled).toEqual([]);
    expect(await inbox.length(chat())).toBe(1);
  });

  it('keeps a failing update at the head with growing backoff, then dead-letters it and moves on', async () => {
    await push(1, 'poison');
    await push(2, 'fine');
    behaviour = (text) => {
      if (text === 'poison') throw new Error('boom');
    };
    const d = drainer();
    const first = await d.drain(chat(), 'job-a');
    expect(first).toEqual({ kind: 'retry_at', at: clock + 1000, reason: 'failed' });
    // The lock stays with the failing job, so no other job lets 'fine' overtake.
    expect(await d.drain(chat(), 'job-b')).toEqual({ kind: 'merged' });
    expect(await d.drain(chat(), 'job-a')).toEqual({ kind: 'retry_at', at: clock + 2000, reason: 'failed' });
    expect(handled).toEqual([]);
    expect(await d.drain(chat(), 'job-a')).toEqual({ kind: 'drained', turns: 2 });
    expect(handled).toEqual(['fine']);
    expect(notified).toEqual([1]);
    expect(await redis.zrange(deadLettersKey(prefix), '0', '-1')).toEqual([`${chat()}|1`]);
  });

  it('waits for the providers without counting an attempt', async () => {
    await push(1, 'm1');
    let down = true;
    behaviour = () => {
      if (down) throw new AllProvidersUnavailableError(clock + 5000, []);
    };
    const d = drainer({ maxAttempts: 1 });
    expect(await d.drain(chat(), 'job-a')).toEqual({ kind: 'retry_at', at: clock + 5000, reason: 'providers_unavailable' });
    expect(await d.drain(chat(), 'job-a')).toEqual({ kind: 'retry_at', at: clock + 5000, reason: 'providers_unavailable' });
    down = false;
    expect(await d.drain(chat(), 'job-a')).toEqual({ kind: 'drained', turns: 1 });
    expect(notified).toEqual([]);
  });

  it('lets a deferred turn wait without counting an attempt, until it says or after the base backoff', async () => {
    await push(1, 'm1');
    let deferrals = 0;
    behaviour = () => {
      deferrals += 1;
      if (deferrals === 1) throw new TurnDeferredError('safety_unchecked', [{ text: 'contacts' }], clock + 7000);
      if (deferrals <= 4) throw new TurnDeferredError('storage_unavailable', [{ text: 'crisis reply' }], null);
    };
    const d = drainer({ maxAttempts: 1 });
    expect(await d.drain(chat(), 'job-a')).toEqual({ kind: 'retry_at', at: clock + 7000, reason: 'safety_unchecked' });
    for (let i = 0; i < 3; i += 1) expect(await d.drain(chat(), 'job-a')).toEqual({ kind: 'retry_at', at: clock + 1000, reason: 'storage_unavailable' });
    expect(await d.drain(chat(), 'job-a')).toEqual({ kind: 'drained', turns: 1 });
    expect(handled).toEqual(['m1']);
    expect(notified).toEqual([]);
  });

  it('paces a crisis check that keeps failing on its own with a growing wait, never a dead letter, and forgets the count once done', async () => {
    await push(1, 'm1');
    let failing = 5;
    behaviour = () => {
      if (failing-- > 0) throw new TurnDeferredError('safety_unchecked', [{ text: 'contacts' }], null);
    };
    const d = drainer({ maxAttempts: 1, retryBaseMs: 1_000, retryMaxMs: 6_000 });
    const waits: number[] = [];
    for (let i = 0; i < 5; i += 1) {
      const outcome = await d.drain(chat(), 'job-a');
      waits.push(outcome.kind === 'retry_at' ? outcome.at - clock : -1);
    }
    expect(waits).toEqual([1_000, 2_000, 4_000, 6_000, 6_000]);
    expect(await d.drain(chat(), 'job-a')).toEqual({ kind: 'drained', turns: 1 });
    expect(notified).toEqual([]);
    expect(await redis.exists(inbox.deferralsKey(chat(), 1))).toBe(0);
  });

  it('waits out a MongoDB outage without counting an attempt', async () => {
    await push(1, 'm1');
    // The driver's own error for an unreachable server (nothing listens on port 1).
    const unreachable = new MongoClient('mongodb://127.0.0.1:1', { serverSelectionTimeoutMS: 50 });
    const outage = await unreachable.connect().then(
      () => null,
      (error: unknown) => error,
    );
    await unreachable.close();
    expect(outage).toBeInstanceOf(MongoServerSelectionError);
    let down = true;
    behaviour = () => {
      if (down) throw new Error('turn failed', { cause: outage });
    };
    const d = drainer({ maxAttempts: 1 });
    for (let i = 0; i < 3; i += 1) expect(await d.drain(chat(), 'job-a')).toEqual({ kind: 'retry_at', at: clock + 1000, reason: 'storage_unavailable' });
    expect(await d.drain(chat(), 'job-b')).toEqual({ kind: 'merged' });
    down = false;
    expect(await d.drain(chat(), 'job-a')).toEqual({ kind: 'drained', turns: 1 });
    expect(handled).toEqual(['m1']);
    expect(notified).toEqual([]);
    expect(await redis.zrange(deadLettersKey(prefix), '0', '-1')).toEqual([]);
  });

  it('drops an update whose recipient blocked the bot (403) without retrying', async () => {
    await push(1, 'blocked');
    await push(2, 'after');
    behaviour = (text) => {
      if (text === 'blocked') throw new GrammyError('Forbidden', { ok: false, error_code: 403, description: 'Forbidden: bot was blocked by the user' }, 'sendMessage', {});
    };
    expect(await drainer().drain(chat(), 'job-a')).toEqual({ kind: 'drained', turns: 2 });
    expect(handled).toEqual(['after']);
  });

  it('answers rapid texts of one sender as one turn, and keeps that cut on a retry', async () => {
    await push(1, 'a', clock);
    await push(2, 'b', clock + 500);
    await push(3, '/help', clock + 600);
    let fail = true;
    behaviour = (text) => {
      if (fail && text === 'a\nb') throw new Error('once');
    };
    const d = drainer({ coalesce: { windowMs: 1000, maxMessages: 10, maxChars: 8000 } });
    expect((await d.drain(chat(), 'job-a')).kind).toBe('retry_at');
    // A message that arrives meanwhile does not join the turn already cut.
    await push(4, 'c', clock + 700);
    fail = false;
    expect(await d.drain(chat(), 'job-a')).toEqual({ kind: 'drained', turns: 3 });
    expect(handled).toEqual(['a\nb', '/help', 'c']);
  });

  it('hands a busy chat over after its share of turns, and when the process closes', async () => {
    for (let i = 1; i <= 4; i += 1) await push(i, `m${i}`);
    const d = drainer({ maxTurnsPerJob: 3 });
    expect(await d.drain(chat(), 'job-a')).toEqual({ kind: 'handover', turns: 3 });
    await d.handOver(chat(), 'job-a');
    closing = true;
    expect(await d.drain(chat(), 'job-b')).toEqual({ kind: 'handover', turns: 0 });
    closing = false;
    expect(await d.drain(chat(), 'job-b')).toEqual({ kind: 'drained', turns: 1 });
    expect(handled).toEqual(['m1', 'm2', 'm3', 'm4']);
  });

  it('stops when the lock was lost mid-turn and removes nothing', async () => {
    await push(1, 'm1');
    behaviour = async () => {
      await redis.del(`${prefix}:chat:{${chat()}}:lock`);
      await inbox.acquire(chat(), 'job-z', 5000);
    };
    expect(await drainer().drain(chat(), 'job-a')).toEqual({ kind: 'lost_lock', turns: 1 });
    expect(await inbox.length(chat())).toBe(1);
  });

  it('keeps the chat through many short turns that together outlast the lease', async () => {
    // Each turn is shorter than the renewal interval (lease / 3), so only renewing between turns
    // keeps the lock; a lapse would let the rival job start the same head a second time.
    for (let i = 1; i <= 8; i += 1) await push(i, `m${i}`);
    behaviour = () => new Promise((resolve) => setTimeout(resolve, 150));
    const d = drainer({ leaseMs: 600 });
    expect(await inbox.acquire(chat(), 'job-a', 600)).toBe(true);
    const owner = d.drain(chat(), 'job-a');
    let draining = true;
    const rival = (async () => {
      const outcomes = new Set<string>();
      while (draining) {
        outcomes.add((await d.drain(chat(), 'job-b')).kind);
        await new Promise((resolve) => setTimeout(resolve, 40));
      }
      return outcomes;
    })();
    const outcome = await owner.finally(() => (draining = false));
    const rivalOutcomes = await rival;
    expect(outcome).toEqual({ kind: 'drained', turns: 8 });
    expect([...rivalOutcomes].filter((kind) => kind !== 'merged' && kind !== 'drained')).toEqual([]);
    expect(handled).toEqual(['m1', 'm2', 'm3', 'm4', 'm5', 'm6', 'm7', 'm8']);
  });

  it('counts the person as active when a turn starts, so a turn that forgets them does not count them again', async () => {
    const activePeople = new ActivePeople(redis, prefix);
    await push(1, 'hello');
    await push(2, 'forget me');
    behaviour = async (text) => {
      if (text === 'forget me') await activePeople.forget(chat());
    };
    expect(await drainer({}, activePeople).drain(chat(), 'job-a')).toEqual({ kind: 'drained', turns: 2 });
    expect(handled).toEqual(['hello', 'forget me']);
    expect(await activePeople.count()).toEqual({ '5m': 0, '30m': 0, '24h': 0 });
    await push(3, 'back again');
    await drainer({}, activePeople).drain(chat(), 'job-b');
    expect((await activePeople.count())['5m']).toBe(1);
  });

  it('skips an update that no longer opens (sealed under a retired key) instead of stalling the chat', async () => {
    await redis.rpush(`${prefix}:chat:{${chat()}}:inbox`, `1|${Vault.withRandomKey('gone').seal('{}')}`);
    await push(2, 'm2');
    expect(await drainer().drain(chat(), 'job-a')).toEqual({ kind: 'drained', turns: 2 });
    expect(handled).toEqual(['m2']);
    expect(await inbox.length(chat())).toBe(0);
  });

  it('finds stranded chats: waiting updates, no owner, no recent arrival', async () => {
    await push(1, 'm1', clock - 120_000);
    expect(await inbox.strandedChats(60_000, 10, clock)).toEqual([chat()]);
    await inbox.acquire(chat(), 'job-a', 5000);
    expect(await inbox.strandedChats(60_000, 10, clock)).toEqual([]);
  });
});
