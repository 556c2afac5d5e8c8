// Facts about telegram-test-api 4.2.1 used directly (without our layer), pinned as tests so that an
// upgrade that changes them is noticed. Our emulator.ts works around each of these.
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { Bot, GrammyError } from 'grammy';
import TelegramServer from 'telegram-test-api';

const TOKEN = '42:raw';

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function call(apiURL: string, route: string, body: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  const response = await fetch(`${apiURL}${route}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: response.status, json: (await response.json()) as Record<string, unknown> };
}

describe('telegram-test-api 4.2.1 as shipped', () => {
  let server: TelegramServer;
  let apiURL: string;
  beforeEach(async () => {
    server = new TelegramServer({ port: await freePort(), host: '127.0.0.1' });
    await server.start();
    apiURL = server.config.apiURL;
  });
  afterEach(async () => {
    await server.stop();
  });

  it('answers methods it lacks with HTTP 500 and a non-Telegram body; grammY then throws error_code undefined', async () => {
    const { status, json } = await call(apiURL, `/bot${TOKEN}/sendChatAction`, { chat_id: 1, action: 'typing' });
    expect(status).toBe(500);
    expect(json).toEqual({ message: expect.stringMatching(/^API method 'sendChatAction' is not supported/) });
    const bot = new Bot(TOKEN, { client: { apiRoot: apiURL } });
    const error = await bot.api.sendChatAction(1, 'typing').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GrammyError);
    expect((error as GrammyError).error_code).toBeUndefined();
  });

  it('getUpdates ignores offset/limit/timeout: answers at once and marks everything it returns as read', async () => {
    const client = server.getClient(TOKEN, { chatId: 5 });
    await client.sendMessage(client.makeMessage('one'));
    await client.sendMessage(client.makeMessage('two'));
    const first = await call(apiURL, `/bot${TOKEN}/getUpdates`, { offset: 0, limit: 1, timeout: 30 });
    const updates = first.json.result as Array<{ update_id: number; message: Record<string, unknown> }>;
    expect(updates.map((u) => u.message.text)).toEqual(['one', 'two']); // limit ignored
    expect(updates[0]?.message.botToken).toBe(TOKEN); // internal field leaks into the update
    // Never confirmed with an offset, yet gone: a bot that crashed after fetching loses them.
    const started = Date.now();
    const second = await call(apiURL, `/bot${TOKEN}/getUpdates`, { offset: 0, timeout: 30 });
    expect(second.json.result).toEqual([]);
    expect(Date.now() - started).toBeLessThan(1_000); // no long polling
  });

  it('shares one counter for update_id between user updates and bot messages; bot message dates are in ms', async () => {
    const client = server.getClient(TOKEN, { chatId: 5 });
    await client.sendMessage(client.makeMessage('hi'));
    const sent = await call(apiURL, `/bot${TOKEN}/sendMessage`, { chat_id: 5, text: 'reply' });
    expect((sent.json.result as { date: number }).date).toBeGreaterThan(1e12);
    await client.sendMessage(client.makeMessage('again'));
    const { json } = await call(apiURL, `/bot${TOKEN}/getUpdates`, {});
    expect((json.result as Array<{ update_id: number }>).map((u) => u.update_id)).toEqual([1, 3]);
  });

  it('POSTs updates to a webhook as plain JSON without X-Telegram-Bot-Api-Secret-Token, after answering the user', async () => {
    const received: Array<{ headers: http.IncomingHttpHeaders; body: Record<string, unknown> }> = [];
    const hook = http.createServer((req, res) => {
      let raw = '';
      req.on('data', (c: Buffer) => (raw += c.toString()));
      req.on('end', () => {
        received.push({ headers: req.headers, body: JSON.parse(raw) as Record<string, unknown> });
        res.writeHead(200).end();
      });
    });
    await new Promise<void>((resolve) => hook.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(hook.address() as AddressInfo).port}/hook`;
      const set = await call(apiURL, `/bot${TOKEN}/setWebhook`, { url, secret_token: 'ignored' });
      expect(set.json).toEqual({ ok: true, result: null });
      const client = server.getClient(TOKEN, { chatId: 5 });
      await client.sendMessage(client.makeMessage('via hook'));
      for (let i = 0; i < 100 && received.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
      expect(received).toHaveLength(1);
      expect(received[0]?.headers['x-telegram-bot-api-secret-token']).toBeUndefined();
      expect(received[0]?.headers['content-type']).toMatch(/application\/json/);
      expect(received[0]?.headers['user-agent']).toMatch(/^axios\//);
      expect(received[0]?.body).toMatchObject({ update_id: 1, message: { text: 'via hook', botToken: TOKEN, message_id: 1 } });
    } finally {
      await new Promise((resolve) => hook.close(resolve));
    }
  });

  it('builds callback queries from the client: no chat_instance, and message has no message_id unless given', async () => {
    const client = server.getClient(TOKEN, { chatId: 5 });
    await client.sendCallback(client.makeCallbackQuery('data-1'));
    const { json } = await call(apiURL, `/bot${TOKEN}/getUpdates`, {});
    const [update] = json.result as Array<{ callback_query: Record<string, unknown> & { message: Record<string, unknown> } }>;
    expect(update?.callback_query).toMatchObject({ id: '1', data: 'data-1' });
    expect(update?.callback_query.chat_instance).toBeUndefined();
    expect(update?.callback_query.message.message_id).toBeUndefined();
  });
});
