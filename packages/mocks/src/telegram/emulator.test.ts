import { spawn } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { Bot, GrammyError, webhookCallback } from 'grammy';
import { startTelegramEmulator, telegramUserClient, type TelegramEmulator } from './index';

const TOKEN = '1234567:test-token';

/** Starts `bot` in long-polling mode and resolves once it polls; returns a stopper. */
async function startPolling(bot: Bot): Promise<() => Promise<void>> {
  bot.catch((error) => console.error('bot error', error));
  let running: Promise<void> | undefined;
  await new Promise<void>((resolve) => {
    running = bot.start({ timeout: 5, onStart: () => resolve() });
  });
  return async () => {
    await bot.stop();
    await running;
  };
}

describe('Telegram emulator (telegram-test-api behind a thin Bot API layer)', () => {
  let emulator: TelegramEmulator;
  beforeEach(async () => {
    emulator = await startTelegramEmulator();
  });
  afterEach(async () => {
    await emulator.close();
  });

  it('lets a grammY bot in polling mode answer a user, and the user client sees the reply', async () => {
    const bot = new Bot(TOKEN, { client: { apiRoot: emulator.apiRoot } });
    bot.on('message:text', (ctx) => ctx.reply(`You said: ${ctx.message.text}`));
    const stop = await startPolling(bot);
    try {
      const user = emulator.client(TOKEN, { chatId: 501, userId: 501, firstName: 'Ann', languageCode: 'en' });
      const sent = await user.sendText('hello bot');
      expect(sent.updateId).toBeGreaterThan(0);
      const [reply] = await user.waitForBotMessages(1, 5_000);
      expect(reply).toMatchObject({ chatId: 501, text: 'You said: hello bot' });
      await user.sendText('second');
      expect((await user.waitForBotMessages(1)).map((m) => m.text)).toEqual(['You said: second']);
      expect((await user.botMessages()).map((m) => m.text)).toEqual(['You said: hello bot', 'You said: second']);
    } finally {
      await stop();
    }
  });

  it('delivers commands with a bot_command entity, user fields, and inline-button callback queries', async () => {
    const bot = new Bot(TOKEN, { client: { apiRoot: emulator.apiRoot } });
    const seen: string[] = [];
    bot.command('start', async (ctx) => {
      seen.push(`start:${ctx.match}:${ctx.from?.language_code}:${ctx.from?.first_name}`);
      await ctx.reply('Pick one', { reply_markup: { inline_keyboard: [[{ text: 'Calm', callback_data: 'mood:calm' }, { text: 'Site', url: 'https://example.org' }]] } });
    });
    bot.on('callback_query:data', async (ctx) => {
      seen.push(`cb:${ctx.callbackQuery.data}:${ctx.callbackQuery.message?.message_id}:${ctx.chat?.id}`);
      await ctx.answerCallbackQuery({ text: 'noted' });
      await ctx.editMessageText('Picked: calm');
    });
    const stop = await startPolling(bot);
    try {
      const user = emulator.client(TOKEN, { chatId: 77, languageCode: 'ru', firstName: 'Ivan' });
      await user.sendCommand('/start deep-link');
      const [menu] = await user.waitForBotMessages(1);
      expect(menu?.buttons).toEqual([
        { text: 'Calm', callbackData: 'mood:calm' },
        { text: 'Site', url: 'https://example.org' },
      ]);
      const pressed = await user.pressButton('mood:calm');
      expect(pressed.callbackQueryId).toBeDefined();
      const deadline = Date.now() + 5_000;
      while ((await user.apiCalls('editMessageText')).length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
      expect(seen).toEqual(['start:deep-link:ru:Ivan', `cb:mood:calm:${menu?.messageId}:77`]);
      expect((await user.apiCalls('answerCallbackQuery'))[0]?.payload).toMatchObject({ callback_query_id: pressed.callbackQueryId, text: 'noted' });
      // The edit is applied to the stored message.
      expect((await user.botMessages())[0]?.text).toBe('Picked: calm');
      await expect(user.pressButton('missing')).rejects.toThrow(/no bot message in chat 77 has a button with callback data "missing"/);
    } finally {
      await stop();
    }
  });

  it('answers methods it lacks like Telegram: stubs succeed, others are 404 GrammyErrors', async () => {
    const bot = new Bot(TOKEN, { client: { apiRoot: emulator.apiRoot } });
    await expect(bot.api.sendChatAction(5, 'typing')).resolves.toBe(true);
    await expect(bot.api.setMyCommands([{ command: 'start', description: 'Start' }])).resolves.toBe(true);
    const error = await bot.api.sendPhoto(5, 'file-id').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GrammyError);
    expect((error as GrammyError).error_code).toBe(404);
    expect((error as GrammyError).description).toMatch(/sendPhoto.*not implemented/);
    expect(emulator.apiCalls(TOKEN).map((c) => `${c.method}:${c.status}`)).toEqual(['sendChatAction:200', 'setMyCommands:200', 'sendPhoto:404']);
    expect(emulator.apiCalls(TOKEN)[0]?.payload).toEqual({ chat_id: 5, action: 'typing' });
  });

  it('keeps updates until getUpdates confirms them with offset (at-least-once, like Telegram)', async () => {
    const user = emulator.client(TOKEN, { chatId: 9 });
    await user.sendText('one');
    await user.sendText('two');
    const getUpdates = async (params: Record<string, unknown>) => {
      const response = await fetch(`${emulator.apiRoot}/bot${TOKEN}/getUpdates`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(params) });
      return ((await response.json()) as { result: Array<{ update_id: number; message: { text: string; botToken?: string } }> }).result;
    };
    const first = await getUpdates({ limit: 1 });
    expect(first.map((u) => u.message.text)).toEqual(['one']);
    expect(first[0]?.message.botToken).toBeUndefined();
    expect((await getUpdates({})).map((u) => u.message.text)).toEqual(['one', 'two']);
    const afterConfirm = await getUpdates({ offset: (first[0]?.update_id ?? 0) + 1 });
    expect(afterConfirm.map((u) => u.message.text)).toEqual(['two']);
    // A long poll returns as soon as an update arrives.
    const started = Date.now();
    const polling = getUpdates({ offset: (afterConfirm[0]?.update_id ?? 0) + 1, timeout: 5 });
    setTimeout(() => void user.sendText('three'), 100);
    expect((await polling).map((u) => u.message.text)).toEqual(['three']);
    expect(Date.now() - started).toBeLessThan(3_000);
  });

  it('POSTs updates to a webhook with the secret token header, in order, and reports failed deliveries', async () => {
    const received: Array<{ secret: string | undefined; body: { update_id: number; message?: { text?: string } } }> = [];
    let failNext = false;
    const hook = http.createServer((req, res) => {
      let raw = '';
      req.on('data', (c: Buffer) => (raw += c.toString()));
      req.on('end', () => {
        if (failNext) {
          failNext = false;
          res.writeHead(500).end('boom');
          return;
        }
        received.push({ secret: req.headers['x-telegram-bot-api-secret-token'] as string | undefined, body: JSON.parse(raw) });
        res.writeHead(200).end();
      });
    });
    await new Promise<void>((resolve) => hook.listen(0, '127.0.0.1', resolve));
    try {
      const hookUrl = `http://127.0.0.1:${(hook.address() as AddressInfo).port}/telegram`;
      const bot = new Bot(TOKEN, { client: { apiRoot: emulator.apiRoot } });
      await bot.api.setWebhook(hookUrl, { secret_token: 's3cret' });
      expect((await bot.api.getWebhookInfo()).url).toBe(hookUrl);
      const polling = await bot.api.getUpdates().catch((e: unknown) => e);
      expect((polling as GrammyError).error_code).toBe(409);

      const user = emulator.client(TOKEN, { chatId: 3 });
      await user.sendText('a');
      await user.sendCommand('/help');
      expect(received.map((r) => [r.secret, r.body.message?.text])).toEqual([
        ['s3cret', 'a'],
        ['s3cret', '/help'],
      ]);
      expect(received[1]!.body.update_id).toBeGreaterThan(received[0]!.body.update_id);

      failNext = true;
      await expect(user.sendText('lost?')).rejects.toThrow(/HTTP 502: webhook .* answered HTTP 500/);
      // Not lost: delivered again before the next update.
      await user.sendText('next');
      expect(received.slice(2).map((r) => r.body.message?.text)).toEqual(['lost?', 'next']);

      await bot.api.deleteWebhook();
      await user.sendText('polled');
      expect((await bot.api.getUpdates()).map((u) => u.message?.text)).toEqual(['polled']);
    } finally {
      await new Promise((resolve) => hook.close(resolve));
    }
  });

  it('drives a grammY webhookCallback end to end', async () => {
    const bot = new Bot(TOKEN, { client: { apiRoot: emulator.apiRoot } });
    bot.on('message:text', (ctx) => ctx.reply(ctx.message.text.toUpperCase()));
    const server = http.createServer(webhookCallback(bot, 'http', { secretToken: 'xyz' }));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      await bot.api.setWebhook(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`, { secret_token: 'xyz' });
      const user = emulator.client(TOKEN, { chatId: 11 });
      await user.sendText('quiet');
      expect((await user.waitForBotMessages(1)).map((m) => m.text)).toEqual(['QUIET']);
      await bot.api.setWebhook(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`, { secret_token: 'wrong' });
      await expect(user.sendText('rejected')).rejects.toThrow(/answered HTTP 401/);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('ends an older long poll with 409 when a second bot polls the same token', async () => {
    const url = `${emulator.apiRoot}/bot${TOKEN}/getUpdates`;
    const first = fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ timeout: 5 }) });
    await new Promise((r) => setTimeout(r, 100));
    const second = fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ timeout: 0 }) });
    expect((await first).status).toBe(409);
    expect((await second).status).toBe(200);
  });
});

describe('Telegram emulator CLI', () => {
  it('prints its apiRoot as one JSON line, serves clients, and exits 0 on SIGTERM', async () => {
    const root = path.resolve(__dirname, '../../../..');
    const child = spawn(process.execPath, [require.resolve('tsx/cli'), 'packages/mocks/src/telegram/cli.ts', '--port', '0'], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      const line = await new Promise<string>((resolve, reject) => {
        let out = '';
        const timer = setTimeout(() => reject(new Error(`cli not ready: ${out}`)), 20_000);
        child.stdout.on('data', (chunk: Buffer) => {
          out += chunk.toString();
          if (out.includes('\n')) {
            clearTimeout(timer);
            resolve(out.split('\n')[0] ?? '');
          }
        });
        child.once('exit', (code) => {
          clearTimeout(timer);
          reject(new Error(`cli exited early with ${code}`));
        });
      });
      const ready = JSON.parse(line) as { apiRoot: string; port: number; pid: number };
      expect(ready.apiRoot).toBe(`http://127.0.0.1:${ready.port}`);
      const bot = new Bot(TOKEN, { client: { apiRoot: ready.apiRoot } });
      await bot.api.sendMessage(8, 'from another process');
      const user = telegramUserClient(ready.apiRoot, TOKEN, { chatId: 8 });
      expect((await user.waitForBotMessages(1)).map((m) => m.text)).toEqual(['from another process']);
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
  }, 30_000);
});
