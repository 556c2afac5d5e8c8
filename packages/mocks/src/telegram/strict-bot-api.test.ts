import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Api, GrammyError, InputFile } from 'grammy';
import { addedToGroupUpdate, callbackQueryUpdate, editedMessageUpdate, privateMessageUpdate } from '@inner-talk/testkit';
import { startStrictBotApi, type StrictBotApi, type UploadedFile } from './index';

const TOKEN = '271828:strict-stand-in-token';
const PERSON = 5101;
const GROUP = -100_5101;

let standIn: StrictBotApi;
let api: Api;
beforeEach(async () => {
  standIn = await startStrictBotApi({ token: TOKEN });
  api = new Api(TOKEN, { apiRoot: standIn.apiRoot });
  standIn.addPrivateChat(PERSON);
  standIn.addGroup(GROUP, 'supergroup');
});
afterEach(() => standIn.close());

/** The error Telegram would answer, as grammY surfaces it. */
async function refusal(call: Promise<unknown>): Promise<{ code: number; description: string }> {
  const error = await call.then(
    () => null,
    (e: unknown) => e,
  );
  if (!(error instanceof GrammyError)) throw new Error(`expected a GrammyError, got ${String(error)}`);
  return { code: error.error_code, description: error.description };
}

async function raw(path: string, body: unknown): Promise<{ status: number; json: unknown }> {
  const response = await fetch(`${standIn.apiRoot}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: response.status, json: await response.json() };
}

describe('strict Bot API stand-in: refusals in Telegram shapes', () => {
  it('refuses an unknown token (401) and an unknown method (404)', async () => {
    expect(await raw('/bot1:wrong/getMe', {})).toEqual({ status: 401, json: { ok: false, error_code: 401, description: 'Unauthorized' } });
    expect(await raw(`/bot${TOKEN}/sendCarrierPigeon`, {})).toEqual({ status: 404, json: { ok: false, error_code: 404, description: 'Not Found' } });
  });

  it('refuses unknown chats, blocked people and groups the bot left', async () => {
    expect(await refusal(api.sendMessage(999, 'hi'))).toEqual({ code: 400, description: 'Bad Request: chat not found' });
    await api.sendMessage(GROUP, 'note');
    await api.leaveChat(GROUP);
    expect(standIn.isMember(GROUP)).toBe(false);
    expect(await refusal(api.sendMessage(GROUP, 'again'))).toEqual({ code: 403, description: 'Forbidden: bot is not a member of the supergroup chat' });
    standIn.blockBy(PERSON);
    expect(await refusal(api.sendMessage(PERSON, 'hi'))).toEqual({ code: 403, description: 'Forbidden: bot was blocked by the user' });
  });

  it('refuses empty and too long texts, long captions and bad button data', async () => {
    expect(await refusal(api.sendMessage(PERSON, ''))).toEqual({ code: 400, description: 'Bad Request: message text is empty' });
    expect(await refusal(api.sendMessage(PERSON, 'x'.repeat(4097)))).toEqual({ code: 400, description: 'Bad Request: message is too long' });
    // Markup does not count: 4096 visible characters inside a tag are fine.
    await api.sendMessage(PERSON, `<b>${'x'.repeat(4096)}</b>`, { parse_mode: 'HTML' });
    const file = new InputFile(Buffer.from('{}'), 'data.json');
    expect(await refusal(api.sendDocument(PERSON, file, { caption: 'c'.repeat(1025) }))).toEqual({ code: 400, description: 'Bad Request: message caption is too long' });
    for (const data of ['', 'd'.repeat(65)]) {
      const keyboard = { inline_keyboard: [[{ text: 'Yes', callback_data: data }]] };
      expect(await refusal(api.sendMessage(PERSON, 'Sure?', { reply_markup: keyboard }))).toEqual({ code: 400, description: 'Bad Request: BUTTON_DATA_INVALID' });
    }
    await api.sendMessage(PERSON, 'Sure?', { reply_markup: { inline_keyboard: [[{ text: 'Yes', callback_data: 'd'.repeat(64) }]] } });
    expect(standIn.callsOf('sendMessage').map((c) => c.ok)).toEqual([false, false, true, false, false, true]);
  });

  it('answers a callback query once, only after it was delivered', async () => {
    expect(await refusal(api.answerCallbackQuery('never-sent'))).toEqual({ code: 400, description: 'Bad Request: query is too old and response timeout expired or query ID is invalid' });
    await standIn.deliver(callbackQueryUpdate(1, { id: PERSON }, 'x', { chatId: PERSON, messageId: 1 }, 'q-1'));
    await api.answerCallbackQuery('q-1');
    expect((await refusal(api.answerCallbackQuery('q-1'))).code).toBe(400);
  });

  it('edits and deletes only messages that exist, and refuses an edit that changes nothing', async () => {
    const sent = await api.sendMessage(PERSON, 'Sure?', { reply_markup: { inline_keyboard: [[{ text: 'Yes', callback_data: 'y' }]] } });
    await api.editMessageReplyMarkup(PERSON, sent.message_id, { reply_markup: { inline_keyboard: [] } });
    expect((await refusal(api.editMessageReplyMarkup(PERSON, sent.message_id, { reply_markup: { inline_keyboard: [] } }))).description).toMatch(/^Bad Request: message is not modified/);
    expect(await refusal(api.editMessageText(PERSON, 4242, 'x'))).toEqual({ code: 400, description: 'Bad Request: message to edit not found' });
    await api.deleteMessage(PERSON, sent.message_id);
    expect(await refusal(api.deleteMessage(PERSON, sent.message_id))).toEqual({ code: 400, description: 'Bad Request: message to delete not found' });
  });
});

describe('strict Bot API stand-in: what grammY really sends', () => {
  it('reads a chunked multipart upload from a grammY InputFile (sendDocument with attach://)', async () => {
    const content = JSON.stringify({ person: 'tg:5101', note: 'é'.repeat(20_000) });
    // A stream makes grammY (and node's fetch) send the body with chunked transfer encoding.
    async function* chunks() {
      yield Buffer.from(content.slice(0, 1000), 'utf8');
      yield Buffer.from(content.slice(1000), 'utf8');
    }
    const message = await api.sendDocument(PERSON, new InputFile(chunks(), 'inner-talk-data.json'), { caption: 'Your data' });
    expect(message.caption).toBe('Your data');
    const [call] = standIn.callsOf('sendDocument');
    expect(call?.body).toEqual({ contentType: 'multipart/form-data', chunked: true });
    expect(call?.ok).toBe(true);
    const file = call?.params.document as UploadedFile;
    expect(file.fileName).toBe('inner-talk-data.json');
    expect(file.content.toString('utf8')).toBe(content);
    expect(call?.params.chat_id).toBe(String(PERSON));
  });

  it('reads urlencoded bodies with JSON-valued fields', async () => {
    const body = new URLSearchParams({ chat_id: String(PERSON), text: 'hi', reply_markup: JSON.stringify({ inline_keyboard: [[{ text: 'A', callback_data: 'a' }]] }) });
    const response = await fetch(`${standIn.apiRoot}/bot${TOKEN}/sendMessage`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body });
    expect(response.status).toBe(200);
    expect(standIn.callsOf('sendMessage')[0]?.params.reply_markup).toEqual({ inline_keyboard: [[{ text: 'A', callback_data: 'a' }]] });
  });
});

describe('strict Bot API stand-in: delivering updates like Telegram', () => {
  let webhook: Server;
  const received: { secret: unknown; update: Record<string, unknown> }[] = [];
  let url = '';
  beforeEach(async () => {
    received.length = 0;
    webhook = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        received.push({ secret: req.headers['x-telegram-bot-api-secret-token'], update: JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown> });
        res.writeHead(200).end('{}');
      });
    });
    await new Promise<void>((resolve) => webhook.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(webhook.address() as AddressInfo).port}/hook`;
  });
  afterEach(() => new Promise<void>((resolve) => webhook.close(() => resolve())));

  it('sends only the registered allowed_updates, with the secret header, and records them', async () => {
    await api.setWebhook(url, { secret_token: 'S'.repeat(32), allowed_updates: ['message', 'callback_query'] });
    expect(standIn.webhook()).toMatchObject({ url, secretToken: 'S'.repeat(32), allowedUpdates: ['message', 'callback_query'] });
    expect((await api.getWebhookInfo()).allowed_updates).toEqual(['message', 'callback_query']);
    expect(await standIn.deliver(privateMessageUpdate(1, { id: PERSON }, 'hello'))).toEqual({ delivered: true, status: 200 });
    expect(await standIn.deliver(editedMessageUpdate(2, { id: PERSON }, 1, 'edited'))).toEqual({ delivered: false, reason: 'not_allowed' });
    expect(await standIn.deliver(addedToGroupUpdate(3, { id: GROUP, type: 'supergroup' }, { id: PERSON }, standIn.bot))).toEqual({ delivered: false, reason: 'not_allowed' });
    expect(received).toEqual([{ secret: 'S'.repeat(32), update: privateMessageUpdate(1, { id: PERSON }, 'hello') }]);
  });

  it('sends Telegram’s default set when allowed_updates was never set', async () => {
    await api.setWebhook(url, { secret_token: 'S'.repeat(32) });
    expect((await standIn.deliver(editedMessageUpdate(2, { id: PERSON }, 1, 'edited'))).delivered).toBe(true);
    expect((await standIn.deliver({ update_id: 3, chat_member: {} })).delivered).toBe(false);
  });
});
