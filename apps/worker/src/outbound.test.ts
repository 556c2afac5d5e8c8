import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Api } from 'grammy';
import { Redis } from 'ioredis';
import { serviceUrls, uniquePrefix } from '@inner-talk/testkit';
import { Vault } from '@inner-talk/vault';
import { DeliveryLedger, plainTextFallback, sharedFloodControl, TelegramCooldownError } from './outbound';

const vault = Vault.withRandomKey();
const pseudonym = (chatId: string) => vault.pseudonym(chatId, 'chat');

interface Call {
  method: string;
  body: Record<string, unknown>;
  at: number;
}

/** A Bot API server for these tests: answers per a rule, records every call. */
async function botApiServer(rule: (call: Call) => { status?: number; body: unknown } | undefined) {
  const calls: Call[] = [];
  const server: Server = createServer((req, res) => {
    let raw = '';
    req.on('data', (c: Buffer) => (raw += c.toString()));
    req.on('end', () => {
      const method = (req.url ?? '').split('/').pop() ?? '';
      const call = { method, body: raw ? (JSON.parse(raw) as Record<string, unknown>) : {}, at: Date.now() };
      calls.push(call);
      const answer = rule(call) ?? { body: { ok: true, result: { message_id: calls.length, date: 0, chat: { id: call.body.chat_id, type: 'private' }, text: call.body.text } } };
      res.writeHead(answer.status ?? 200, { 'content-type': 'application/json' }).end(JSON.stringify(answer.body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { calls, apiRoot: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => new Promise<void>((r) => server.close(() => r())) };
}

const TOKEN = '4242:outbound';

describe('outbound Telegram policies against a local Bot API server and real Redis', () => {
  const redis = new Redis(serviceUrls().redisUrl);
  let prefix: string;
  beforeEach(() => {
    prefix = uniquePrefix('out');
  });
  afterEach(async () => {
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length) await redis.del(...keys);
  });
  afterAll(() => redis.quit());

  it('a re-run turn sends only the messages Telegram has not accepted yet', async () => {
    let failThird = true;
    const server = await botApiServer((call) => (failThird && call.body.text === 'part 3' ? { status: 500, body: { ok: false, error_code: 500, description: 'Internal' } } : undefined));
    try {
      const ledger = new DeliveryLedger(redis, prefix);
      const api = new Api(TOKEN, { apiRoot: server.apiRoot });
      api.config.use(ledger.transformer());
      const turn = async () => {
        for (const text of ['part 1', 'part 2', 'part 3']) await api.sendMessage(5, text);
      };
      await expect(ledger.run('5', 'u1', turn)).rejects.toThrow();
      failThird = false;
      await ledger.run('5', 'u1', turn);
      await ledger.run('5', 'u1', turn); // a third run (e.g. a duplicate job) sends nothing
      const sent = server.calls.filter((c) => c.method === 'sendMessage').map((c) => c.body.text);
      expect(sent).toEqual(['part 1', 'part 2', 'part 3', 'part 3']);
      // Another turn of the same chat is counted on its own.
      await ledger.run('5', 'u2', async () => void (await api.sendMessage(5, 'next')));
      expect(server.calls.at(-1)?.body.text).toBe('next');
    } finally {
      await server.close();
    }
  });

  it('does not count interim notices of an attempt that ends in a notice-only error', async () => {
    const server = await botApiServer(() => undefined);
    try {
      class Interim extends Error {}
      const ledger = new DeliveryLedger(redis, prefix, { sentOnlyNotices: (e) => e instanceof Interim });
      const api = new Api(TOKEN, { apiRoot: server.apiRoot });
      api.config.use(ledger.transformer());
      await expect(
        ledger.run('6', 'u1', async () => {
          await api.sendMessage(6, 'one moment');
          throw new Interim();
        }),
      ).rejects.toBeInstanceOf(Interim);
      await ledger.run('6', 'u1', async () => void (await api.sendMessage(6, 'the reply')));
      expect(server.calls.map((c) => c.body.text)).toEqual(['one moment', 'the reply']);
    } finally {
      await server.close();
    }
  });

  it('a 429 seen by one worker makes every worker wait for that chat, and only that chat', async () => {
    let limited = true;
    const server = await botApiServer((call) => {
      if (call.body.chat_id === 7 && limited) {
        limited = false;
        return { status: 429, body: { ok: false, error_code: 429, description: 'Too Many Requests: retry after 1', parameters: { retry_after: 1 } } };
      }
      return undefined;
    });
    try {
      const workerA = new Api(TOKEN, { apiRoot: server.apiRoot });
      const workerB = new Api(TOKEN, { apiRoot: server.apiRoot });
      workerA.config.use(sharedFloodControl(redis, prefix, { maxWaitMs: 5000, chatKeyOf: pseudonym }));
      workerB.config.use(sharedFloodControl(redis, prefix, { maxWaitMs: 5000, chatKeyOf: pseudonym }));
      const limitedAt = Date.now();
      await expect(workerA.sendMessage(7, 'x')).rejects.toMatchObject({ error_code: 429 });
      expect(await redis.pttl(`${prefix}:chat:{${pseudonym('7')}}:tg-cooldown`)).toBeGreaterThan(500);
      expect(await redis.exists(`${prefix}:chat:{7}:tg-cooldown`)).toBe(0); // named by the pseudonym, not the chat id
      await workerB.sendMessage(8, 'other chat');
      expect(Date.now() - limitedAt).toBeLessThan(500);
      await workerB.sendMessage(7, 'after the cooldown');
      const delivered = server.calls.find((c) => c.body.text === 'after the cooldown');
      expect(delivered!.at - limitedAt).toBeGreaterThanOrEqual(950);
      // A later, shorter 429 never shortens a longer cooldown.
      await redis.set(`${prefix}:chat:{${pseudonym('9')}}:tg-cooldown`, '1', 'PX', 60_000);
      const impatient = new Api(TOKEN, { apiRoot: server.apiRoot });
      impatient.config.use(sharedFloodControl(redis, prefix, { maxWaitMs: 1000, chatKeyOf: pseudonym }));
      await expect(impatient.sendMessage(9, 'y')).rejects.toBeInstanceOf(TelegramCooldownError);
    } finally {
      await server.close();
    }
  });

  it('sends a message again as plain text when Telegram cannot parse its markup', async () => {
    const server = await botApiServer((call) => (call.body.parse_mode ? { status: 400, body: { ok: false, error_code: 400, description: "Bad Request: can't parse entities" } } : undefined));
    try {
      const api = new Api(TOKEN, { apiRoot: server.apiRoot });
      api.config.use(plainTextFallback());
      const sent = await api.sendMessage(10, '*bold', { parse_mode: 'MarkdownV2' });
      expect(sent.text).toBe('*bold');
      expect(server.calls.map((c) => c.body.parse_mode ?? 'plain')).toEqual(['MarkdownV2', 'plain']);
    } finally {
      await server.close();
    }
  });
});
