import http, { type IncomingMessage, type RequestListener, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import TelegramServer from 'telegram-test-api';
import { telegramUserClient, type TelegramUserClient } from './client';
import type { BotApiCall, TelegramUserOptions } from './types';

/**
 * Emulated Telegram Bot API for tests and the local demo, built on `telegram-test-api` 4.2.1.
 *
 * The package's own storage, counters and routes do the emulation (sendMessage, editMessageText,
 * editMessageReplyMarkup, deleteMessage, answerCallbackQuery, getMe, and the user-side routes
 * /sendMessage, /sendCommand, /sendCallback, /getUpdatesHistory). A thin HTTP layer in front of it
 * fixes what the package gets wrong for a real bot (see the report in this folder's tests):
 *  - getUpdates honours `offset` (confirms), `limit` and `timeout` (long polling) instead of returning
 *    at once and dropping every update it returned; a newer poll ends an older one with 409, like Telegram;
 *  - setWebhook / deleteWebhook / getWebhookInfo are kept here: updates are POSTed to the webhook with
 *    `X-Telegram-Bot-Api-Secret-Token` when a secret_token was set, in order, and a failed delivery is
 *    reported to the user-side caller (the package itself sends no secret header and crashes the
 *    process with an unhandled rejection when the webhook answers non-2xx);
 *  - the internal `botToken` field is removed from delivered messages, callback queries get `chat_instance`;
 *  - methods the package lacks answer like Telegram: `stubMethods` (default: sendChatAction,
 *    setMyCommands, ...) succeed with a fixed result, others get 404 `{ok:false,error_code:404,...}`
 *    (the package itself answers HTTP 500 `{"message":"API method 'x' is not supported..."}`);
 *  - every Bot API call is recorded (`apiCalls()`).
 */

/** Options of {@link startTelegramEmulator}. */
export interface TelegramEmulatorOptions {
  /** Port to listen on; 0 or unset picks a free one. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /**
   * Bot API methods the emulator does not implement that should succeed with this fixed `result`.
   * Merged over {@link DEFAULT_STUB_METHODS}; map a method to `undefined` to make it 404 again.
   */
  stubMethods?: Record<string, unknown>;
  /** Upper bound for one long-polling getUpdates, whatever `timeout` the bot asks for. Default 10000 ms. */
  maxPollMs?: number;
  /** Timeout of one webhook POST. Default 10000 ms. */
  webhookTimeoutMs?: number;
}

/** A running emulator. */
export interface TelegramEmulator {
  /** What grammY needs as `client.apiRoot` (`new Bot(token, { client: { apiRoot } })`); no trailing slash. */
  apiRoot: string;
  /** Base URL of the user-side routes (same server as `apiRoot`). */
  url: string;
  port: number;
  /** A user talking to the bot with this token; see {@link TelegramUserClient}. */
  client(token: string, user?: TelegramUserOptions): TelegramUserClient;
  /** Bot API calls recorded so far (all bots, or the bot with `token`), oldest first. */
  apiCalls(token?: string): BotApiCall[];
  /** Stops listening, ends pending long polls and open connections. Idempotent. */
  close(): Promise<void>;
}

/** Methods that telegram-test-api lacks and that succeed by default, with their result. */
export const DEFAULT_STUB_METHODS: Readonly<Record<string, unknown>> = Object.freeze({
  sendChatAction: true,
  setMyCommands: true,
  deleteMyCommands: true,
  getMyCommands: [],
  setMyDescription: true,
  setMyShortDescription: true,
  setChatMenuButton: true,
  setMessageReaction: true,
});

/** Methods telegram-test-api implements itself (passed through to it). */
const EMULATED_METHODS = new Set([
  'sendMessage',
  'editMessageText',
  'editMessageReplyMarkup',
  'deleteMessage',
  'answerCallbackQuery',
  'getMe',
]);

// ---- The parts of telegram-test-api's TelegramServer this layer relies on (version 4.2.1). ----
interface StoredUserUpdate {
  time: number;
  botToken: string;
  updateId: number;
  messageId: number;
  isRead: boolean;
  message?: Record<string, unknown>;
  callbackQuery?: { from: unknown; message: unknown; data: string };
  callbackId?: number;
}
interface EmulatorCore {
  storage: { userMessages: StoredUserUpdate[]; botMessages: unknown[] };
  addUserMessage(message: Record<string, unknown>): Promise<void>;
  addUserCommand(message: Record<string, unknown>): Promise<void>;
  addUserCallback(callbackQuery: Record<string, unknown>): Promise<void>;
  on(event: string, listener: () => void): unknown;
  removeAllListeners(): unknown;
}
const USER_UPDATE_EVENTS = ['AddedUserMessage', 'AddedUserCommand', 'AddedUserCallbackQuery'];

interface Webhook {
  url: string;
  secretToken?: string;
}

/** A Telegram-shaped update as the bot receives it. */
type Update = Record<string, unknown> & { update_id: number };

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

const MAX_BODY_BYTES = 4 * 1024 * 1024;

async function readParams(req: IncomingMessage, url: URL): Promise<Record<string, unknown>> {
  const params: Record<string, unknown> = Object.fromEntries(url.searchParams);
  if (req.method !== 'POST') return params;
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buf = chunk as Buffer;
    size += buf.length;
    if (size > MAX_BODY_BYTES) throw new HttpError(413, 'Request Entity Too Large');
    chunks.push(buf);
  }
  const body = Buffer.concat(chunks);
  const text = body.toString('utf8');
  const type = (req.headers['content-type'] ?? '').toLowerCase();
  if (text.length === 0) return params;
  if (type.includes('multipart/form-data')) {
    // File uploads (sendDocument): fields as strings, a file as { fileName, size, content (UTF-8) }.
    let form: FormData;
    try {
      form = await new Response(body, { headers: { 'content-type': req.headers['content-type'] ?? '' } }).formData();
    } catch {
      throw new HttpError(400, 'Bad Request: malformed multipart/form-data');
    }
    for (const [name, value] of form.entries()) {
      params[name] = typeof value === 'string' ? parseMaybeJson(value) : { fileName: value.name, size: value.size, content: await value.text() };
    }
    // Clients (grammY among them) send `document=attach://<part>` and the file as that part.
    for (const [name, value] of Object.entries(params)) {
      if (typeof value !== 'string' || !value.startsWith('attach://')) continue;
      const part = value.slice('attach://'.length);
      if (part in params) {
        params[name] = params[part];
        delete params[part];
      }
    }
    return params;
  }
  if (type.includes('application/json')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new HttpError(400, "Bad Request: can't parse JSON object");
    }
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) Object.assign(params, parsed);
    return params;
  }
  if (type.includes('application/x-www-form-urlencoded')) {
    Object.assign(params, Object.fromEntries(new URLSearchParams(text)));
  }
  return params;
}

/** grammY sends objects in form fields as JSON (e.g. reply_markup); numbers and text stay strings. */
function parseMaybeJson(value: string): unknown {
  if (!value.startsWith('{') && !value.startsWith('[')) return value;
  try {
    return JSON.parse(value) as unknown;
  } catch {
    return value;
  }
}

function toInt(value: unknown): number | undefined {
  if (typeof value === 'number' && Number.isFinite(value)) return Math.trunc(value);
  if (typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value))) return Math.trunc(Number(value));
  return undefined;
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  if (res.headersSent || res.destroyed) return;
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function telegramError(res: ServerResponse, status: number, description: string): void {
  sendJson(res, status, { ok: false, error_code: status, description });
}

/** The update as Telegram would deliver it: telegram-test-api's format minus its internal fields. */
function formatUpdate(stored: StoredUserUpdate): Update {
  if (stored.callbackQuery) {
    const message = stored.callbackQuery.message as { chat?: { id?: unknown } } | undefined;
    return {
      update_id: stored.updateId,
      callback_query: {
        id: String(stored.callbackId),
        from: stored.callbackQuery.from,
        message: stored.callbackQuery.message,
        chat_instance: String(message?.chat?.id ?? 0),
        data: stored.callbackQuery.data,
      },
    };
  }
  const { botToken: _botToken, ...message } = stored.message ?? {};
  return { update_id: stored.updateId, message: { ...message, message_id: stored.messageId } };
}

/**
 * Starts the emulated Telegram Bot API on 127.0.0.1 (a free port unless `port` is given).
 * Point a grammY bot at it with `new Bot(token, { client: { apiRoot: emulator.apiRoot } })` and act as
 * a user with `emulator.client(token, { chatId, ... })`.
 */
export async function startTelegramEmulator(options: TelegramEmulatorOptions = {}): Promise<TelegramEmulator> {
  const host = options.host ?? '127.0.0.1';
  const maxPollMs = options.maxPollMs ?? 10_000;
  const webhookTimeoutMs = options.webhookTimeoutMs ?? 10_000;
  const stubs = new Map<string, unknown>(Object.entries({ ...DEFAULT_STUB_METHODS, ...options.stubMethods }));
  for (const [method, result] of stubs) if (result === undefined) stubs.delete(method);

  // storeTimeout only matters for the package's clean-up daemon, which runs only after its own start();
  // we serve its express app from our own server instead, so nothing the emulator stores expires.
  const server = new TelegramServer({ host, storeTimeout: 24 * 3600 });
  const core = server as unknown as EmulatorCore;
  const app = (server as unknown as { webServer?: unknown }).webServer;
  if (typeof app !== 'function') throw new Error('telegram-test-api internals changed: TelegramServer.webServer is not an express app (expected version 4.2.1)');
  const expressApp = app as RequestListener;

  const calls: BotApiCall[] = [];
  const webhooks = new Map<string, Webhook>();
  const deliveryChains = new Map<string, Promise<void>>();
  const activePolls = new Map<string, (status: number) => void>();
  const waiters = new Set<() => void>();
  let closed = false;

  const notify = (): void => {
    for (const wake of [...waiters]) wake();
  };
  for (const event of USER_UPDATE_EVENTS) core.on(event, notify);

  const unconfirmed = (token: string, minUpdateId = 0): StoredUserUpdate[] =>
    core.storage.userMessages.filter((u) => u.botToken === token && !u.isRead && u.updateId >= minUpdateId);

  /** Resolves when a user update arrives, `ms` pass, the request is dropped or the emulator closes. */
  const waitForUserUpdate = (ms: number, res: ServerResponse, superseded: Promise<number>): Promise<number | undefined> =>
    new Promise((resolve) => {
      const done = (status?: number): void => {
        clearTimeout(timer);
        waiters.delete(wake);
        res.off('close', wake);
        resolve(status);
      };
      const wake = (): void => done();
      const timer = setTimeout(wake, ms);
      waiters.add(wake);
      // The response closing before we answer means the bot dropped the request (e.g. bot.stop()).
      res.once('close', wake);
      void superseded.then((status) => done(status));
    });

  const handleGetUpdates = async (token: string, params: Record<string, unknown>, res: ServerResponse): Promise<void> => {
    if (webhooks.has(token)) {
      telegramError(res, 409, "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first");
      return;
    }
    const offset = toInt(params.offset) ?? 0;
    const limit = Math.min(100, Math.max(1, toInt(params.limit) ?? 100));
    const timeoutMs = Math.min(maxPollMs, Math.max(0, (toInt(params.timeout) ?? 0) * 1000));
    // `offset` confirms every update below it, as in Telegram (negative offsets are not supported).
    if (offset > 0) for (const u of core.storage.userMessages) if (u.botToken === token && u.updateId < offset) u.isRead = true;

    // A newer getUpdates ends the older one with 409, as Telegram does (two bots polling one token).
    activePolls.get(token)?.(409);
    let supersede: (status: number) => void = () => undefined;
    const superseded = new Promise<number>((resolve) => (supersede = resolve));
    activePolls.set(token, supersede);
    try {
      let batch = unconfirmed(token, offset);
      if (batch.length === 0 && timeoutMs > 0 && !closed) {
        const status = await waitForUserUpdate(timeoutMs, res, superseded);
        if (status === 409) {
          telegramError(res, 409, 'Conflict: terminated by other getUpdates request; make sure that only one bot instance is running');
          return;
        }
        batch = unconfirmed(token, offset);
      }
      sendJson(res, 200, { ok: true, result: batch.slice(0, limit).map(formatUpdate) });
    } finally {
      if (activePolls.get(token) === supersede) activePolls.delete(token);
    }
  };

  /** POSTs every unconfirmed update of `token` to its webhook, in order; one delivery at a time per bot. */
  const deliverToWebhook = (token: string): Promise<void> => {
    const previous = deliveryChains.get(token) ?? Promise.resolve();
    const next = previous
      .catch(() => undefined)
      .then(async () => {
        for (const stored of unconfirmed(token)) {
          const hook = webhooks.get(token);
          if (!hook) return;
          const headers: Record<string, string> = { 'content-type': 'application/json' };
          if (hook.secretToken) headers['x-telegram-bot-api-secret-token'] = hook.secretToken;
          let response: Response;
          try {
            response = await fetch(hook.url, {
              method: 'POST',
              headers,
              body: JSON.stringify(formatUpdate(stored)),
              signal: AbortSignal.timeout(webhookTimeoutMs),
            });
          } catch (error) {
            throw new Error(`webhook delivery of update ${stored.updateId} to ${hook.url} failed: ${String(error)}`, { cause: error });
          }
          const text = await response.text().catch(() => '');
          if (!response.ok) {
            throw new Error(`webhook ${hook.url} answered HTTP ${response.status} to update ${stored.updateId}: ${text.slice(0, 500)}`);
          }
          stored.isRead = true;
        }
      });
    deliveryChains.set(token, next);
    return next;
  };

  /** User-side routes: add the update through the emulator, then deliver it if a webhook is set. */
  const handleUserAction = async (route: string, req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> => {
    const body = await readParams(req, url);
    const token = body.botToken;
    if (typeof token !== 'string' || token === '') throw new HttpError(400, 'Bad Request: `botToken` is required');
    if (route === '/sendCommand' && !Array.isArray(body.entities)) throw new HttpError(400, 'Bad Request: a command needs `entities`');
    if (route === '/sendMessage') await core.addUserMessage(body);
    else if (route === '/sendCommand') await core.addUserCommand(body);
    else await core.addUserCallback(body);
    const stored = core.storage.userMessages.find((u) => u.message === body || u.callbackQuery === body);
    if (!stored) throw new HttpError(500, 'the emulator did not store the update');
    const result = stored.callbackQuery
      ? { update_id: stored.updateId, callback_query_id: String(stored.callbackId) }
      : { update_id: stored.updateId, message_id: stored.messageId };
    if (webhooks.has(token)) {
      try {
        await deliverToWebhook(token);
      } catch (error) {
        sendJson(res, 502, { ok: false, error_code: 502, description: (error as Error).message, result });
        return;
      }
    }
    sendJson(res, 200, { ok: true, result });
  };

  // Documents get ids far from telegram-test-api's own message ids.
  let documentMessageId = 1_000_000;
  const handleBotApi = async (token: string, method: string, req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> => {
    const call: BotApiCall = { token, method, payload: {}, status: 0, at: Date.now() };
    calls.push(call);
    res.once('finish', () => (call.status = res.statusCode));
    if (EMULATED_METHODS.has(method)) {
      // The package parses the body itself (express); pick it up once it has answered.
      res.once('finish', () => {
        const parsed = (req as IncomingMessage & { body?: unknown }).body;
        if (parsed && typeof parsed === 'object') call.payload = { ...(parsed as Record<string, unknown>) };
      });
      expressApp(req, res);
      return;
    }
    const params = await readParams(req, url);
    call.payload = params;
    switch (method) {
      case 'getUpdates':
        return handleGetUpdates(token, params, res);
      case 'setWebhook': {
        const hookUrl = typeof params.url === 'string' ? params.url : '';
        if (hookUrl === '') webhooks.delete(token);
        else {
          const secret = typeof params.secret_token === 'string' && params.secret_token !== '' ? params.secret_token : undefined;
          webhooks.set(token, secret ? { url: hookUrl, secretToken: secret } : { url: hookUrl });
          activePolls.get(token)?.(409);
        }
        if (params.drop_pending_updates === true || params.drop_pending_updates === 'true') for (const u of unconfirmed(token)) u.isRead = true;
        sendJson(res, 200, { ok: true, result: true, description: hookUrl ? 'Webhook was set' : 'Webhook was deleted' });
        return;
      }
      case 'sendDocument': {
        // Not in telegram-test-api: recorded here (the call's payload holds the file) and answered
        // like Telegram does, with a message of its own id range.
        const chatId = toInt(params.chat_id);
        const document = params.document as { fileName?: string; size?: number } | undefined;
        if (chatId === undefined || !document || typeof document !== 'object') {
          telegramError(res, 400, 'Bad Request: chat_id and a document file are required');
          return;
        }
        documentMessageId += 1;
        sendJson(res, 200, {
          ok: true,
          result: {
            message_id: documentMessageId,
            date: Math.floor(Date.now() / 1000),
            chat: { id: chatId, type: 'private' },
            document: { file_id: `doc${documentMessageId}`, file_unique_id: `doc${documentMessageId}`, file_name: document.fileName, file_size: document.size },
            ...(typeof params.caption === 'string' && { caption: params.caption }),
          },
        });
        return;
      }
      case 'deleteWebhook':
        webhooks.delete(token);
        if (params.drop_pending_updates === true || params.drop_pending_updates === 'true') for (const u of unconfirmed(token)) u.isRead = true;
        sendJson(res, 200, { ok: true, result: true, description: 'Webhook was deleted' });
        return;
      case 'getWebhookInfo':
        sendJson(res, 200, {
          ok: true,
          result: { url: webhooks.get(token)?.url ?? '', has_custom_certificate: false, pending_update_count: unconfirmed(token).length },
        });
        return;
      default:
        if (stubs.has(method)) {
          sendJson(res, 200, { ok: true, result: stubs.get(method) });
          return;
        }
        telegramError(
          res,
          404,
          `Not Found: method '${method}' is not implemented by the Telegram emulator (telegram-test-api 4.2.1); add it to stubMethods if a fixed result will do`,
        );
    }
  };

  const httpServer = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://emulator');
    const route = url.pathname;
    const botRoute = /^\/bot([^/]+)\/([A-Za-z0-9_]+)\/?$/.exec(route);
    let handled: Promise<void>;
    if (botRoute) {
      handled = handleBotApi(decodeURIComponent(botRoute[1] ?? ''), botRoute[2] ?? '', req, res, url);
    } else if (req.method === 'POST' && (route === '/sendMessage' || route === '/sendCommand' || route === '/sendCallback')) {
      handled = handleUserAction(route, req, res, url);
    } else if (route === '/_emulator/apiCalls') {
      handled = readParams(req, url).then((params) => {
        const token = typeof params.token === 'string' ? params.token : undefined;
        sendJson(res, 200, { ok: true, result: token ? calls.filter((c) => c.token === token) : calls });
      });
    } else {
      // /getUpdatesHistory, /getUpdates (user side) and anything else: the package's own routes.
      expressApp(req, res);
      return;
    }
    handled.catch((error: unknown) => {
      if (error instanceof HttpError) telegramError(res, error.status, error.message);
      else telegramError(res, 500, `Internal Server Error: ${String(error)}`);
    });
  });
  httpServer.keepAliveTimeout = 5_000;

  await new Promise<void>((resolve, reject) => {
    httpServer.once('error', reject);
    httpServer.listen(options.port ?? 0, host, () => {
      httpServer.off('error', reject);
      resolve();
    });
  });
  const port = (httpServer.address() as AddressInfo).port;
  const root = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;

  let closing: Promise<void> | undefined;
  return {
    apiRoot: root,
    url: root,
    port,
    client: (token, user) => telegramUserClient(root, token, user),
    apiCalls: (token) => (token === undefined ? [...calls] : calls.filter((c) => c.token === token)),
    close: () => {
      closing ??= new Promise<void>((resolve) => {
        closed = true;
        notify();
        for (const end of activePolls.values()) end(0);
        core.removeAllListeners();
        httpServer.close(() => resolve());
        httpServer.closeAllConnections();
      });
      return closing;
    },
  };
}
