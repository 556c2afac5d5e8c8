import { createServer, type Server } from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { createRedis, redisReady, UpdateQueue } from '@inner-talk/queue';
import { freePort, serviceUrls, uniquePrefix } from '@inner-talk/testkit';
import { Vault } from '@inner-talk/vault';
import { createWebhookHandler } from './webhook';

const SECRET = 'unit_secret_0123456789abcdefghijklmn';
const silent = pino({ level: 'silent' });

async function serve(queue: UpdateQueue, maxBodyBytes = 4096, discardLimitBytes = 4 * maxBodyBytes): Promise<{ url: string; server: Server }> {
  const handler = createWebhookHandler({
    path: '/hook',
    secret: SECRET,
    maxBodyBytes,
    discardLimitBytes,
    accept: async (update) => {
      await queue.enqueue(update, Date.now(), 'trace');
    },
    logger: silent,
  });
  const server = createServer((req, res) => {
    if (!handler(req, res)) res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, server };
}

const post = (url: string, body: string, secret: string | null = SECRET) =>
  fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...(secret && { 'x-telegram-bot-api-secret-token': secret }) }, body });

describe('webhook handler with a real queue', () => {
  const prefix = uniquePrefix('wh');
  const redis = createRedis(serviceUrls().redisUrl, 'producer');
  const vault = Vault.withRandomKey();
  const queue = new UpdateQueue({ connection: redis, prefix, vault, dedupeTtlMs: 60_000 });
  const chat = (id: string) => queue.inbox.pseudonymOf(id);
  let url: string;
  let server: Server;

  beforeAll(async () => {
    await redisReady(redis);
    ({ url, server } = await serve(queue));
  });
  afterAll(async () => {
    server.close();
    await queue.queue.obliterate({ force: true });
    await queue.close();
    redis.disconnect();
  });

  it('stores an update before answering 200', async () => {
    const res = await post(url, JSON.stringify({ update_id: 7, message: { text: 'x', chat: { id: 42 } } }));
    expect(res.status).toBe(200);
    expect(await queue.queue.getJob('u7')).toMatchObject({ data: { chat: chat('42'), updateId: 7 } });
    expect(await queue.inbox.peek(chat('42'), 10)).toMatchObject([{ updateId: 7, update: { message: { text: 'x' } } }]);
  });

  it('keeps one inbox entry when Telegram redelivers an update', async () => {
    for (let i = 0; i < 3; i += 1) expect((await post(url, JSON.stringify({ update_id: 10, message: { text: 'y', chat: { id: 43 } } }))).status).toBe(200);
    expect(await queue.inbox.length(chat('43'))).toBe(1);
  });

  it.each([
    ['not JSON', '{"update_id": 1', 400],
    ['JSON that is not an update', '{"hello":"world"}', 400],
    ['a negative update_id', '{"update_id":-5}', 400],
  ])('answers %s with 400 and stores nothing', async (_label, body, status) => {
    const before = await queue.queue.count();
    expect((await post(url, body)).status).toBe(status);
    expect(await queue.queue.count()).toBe(before);
  });

  it('answers 413 to an oversized body, 405 to GET and 404 elsewhere', async () => {
    expect((await post(url, JSON.stringify({ update_id: 8, pad: 'x'.repeat(10_000) }))).status).toBe(413);
    expect((await fetch(url)).status).toBe(405);
    expect((await fetch(url.replace('/hook', '/other'), { method: 'POST' })).status).toBe(404);
    expect(await queue.queue.getJob('u8')).toBeUndefined();
  });

  it('answers 413 at once to a declared oversized body, and closes the connection of a client that keeps uploading', async () => {
    const { port } = new URL(url);
    const socket = net.connect(Number(port), '127.0.0.1');
    await new Promise<void>((resolve) => socket.once('connect', resolve));
    let response = '';
    socket.on('data', (d: Buffer) => (response += d.toString()));
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    socket.on('error', () => undefined); // EPIPE / ECONNRESET once the server closes
    const total = 64 * 1024 * 1024;
    socket.write(`POST /hook HTTP/1.1\r\nhost: 127.0.0.1\r\nx-telegram-bot-api-secret-token: ${SECRET}\r\ncontent-length: ${total}\r\n\r\n`);
    const chunk = Buffer.alloc(64 * 1024, 0x78);
    let written = 0;
    let isClosed = false;
    void closed.then(() => (isClosed = true));
    while (!isClosed && written < total) {
      written += chunk.length;
      if (!socket.write(chunk)) await Promise.race([new Promise((r) => socket.once('drain', r)), closed]);
    }
    await closed;
    expect(response).toMatch(/^HTTP\/1\.1 413/);
    // Refused bodies are read only up to the discard limit (16 KiB here); what the kernel buffers on
    // the way is far below the 64 MiB the client meant to send.
    expect(written).toBeLessThan(total / 4);
  });

  it('answers 400, not 503, to an update nested too deeply to store, so Telegram does not redeliver it forever', async () => {
    const roomy = await serve(queue, 1_048_576);
    try {
      const depth = 50_000;
      const res = await post(roomy.url, `{"update_id":11,"message":{"chat":{"id":44}},"x":${'['.repeat(depth)}${']'.repeat(depth)}}`);
      expect(res.status).toBe(400);
      expect(await queue.queue.getJob('u11')).toBeUndefined();
      expect(await queue.inbox.length(chat('44'))).toBe(0);
    } finally {
      roomy.server.close();
    }
  });

  it('answers 503 when Redis cannot store the update, so Telegram redelivers', async () => {
    const deadPort = await freePort();
    const deadRedis = createRedis(`redis://127.0.0.1:${deadPort}`, 'producer', { retryStrategy: () => null });
    deadRedis.on('error', () => undefined);
    const deadQueue = new UpdateQueue({ connection: deadRedis, prefix, vault, dedupeTtlMs: 60_000 });
    deadQueue.queue.on('error', () => undefined);
    const dead = await serve(deadQueue);
    try {
      const res = await post(dead.url, JSON.stringify({ update_id: 9 }));
      expect(res.status).toBe(503);
    } finally {
      dead.server.close();
      deadRedis.disconnect();
    }
  });
});
