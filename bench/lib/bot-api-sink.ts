/**
 * A fast local stand-in for the Telegram Bot API (https://core.telegram.org/bots/api) for load
 * benchmarks: node:http only, answers from memory, records a timestamp per sendMessage. The
 * telegram-test-api emulator keeps every update in arrays it scans per request and is far too slow
 * for hundreds of messages a second.
 *
 * Answers getMe, getWebhookInfo, setWebhook, deleteWebhook, sendMessage, sendChatAction,
 * answerCallbackQuery, editMessageText, editMessageReplyMarkup and deleteMessage with the `{ok,result}`
 * bodies Telegram sends; any other method gets Telegram's 404 and is counted, so a code path the
 * benchmark does not expect shows up in the report instead of passing silently.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One sendMessage the sink accepted. `at` is this process's Date.now() when the request body was read. */
export interface SinkMessage {
  chatId: number;
  text: string;
  at: number;
  messageId: number;
}

/** What the bot registered with setWebhook (the delivery emulator reads it). */
export interface WebhookRegistration {
  url: string;
  secretToken: string | null;
  /** Telegram's default is 40 when the bot does not set it. */
  maxConnections: number;
  at: number;
}

export interface BotApiSinkOptions {
  /** The bot token the sink answers for; requests for other tokens get 401 like Telegram. */
  token: string;
  /** The bot user getMe returns. */
  bot?: { id: number; username: string; firstName: string };
  port?: number;
}

export interface BotApiSink {
  /** What to pass as grammY's `apiRoot` / TELEGRAM_API_ROOT. */
  readonly apiRoot: string;
  /** Every accepted sendMessage, in arrival order. The array is live: read, never modify. */
  readonly messages: readonly SinkMessage[];
  /** Calls by method (including unknown ones), since start. */
  counts(): Record<string, number>;
  /** Calls of methods the sink does not implement, by method. */
  unknownMethods(): Record<string, number>;
  /** The current webhook, or null after deleteWebhook / before any setWebhook. */
  webhook(): WebhookRegistration | null;
  close(): Promise<void>;
}

const TELEGRAM_DEFAULT_MAX_CONNECTIONS = 40;

function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const type = req.headers['content-type'] ?? '';
      if (!text || !type.includes('json')) return resolve({});
      try {
        const parsed: unknown = JSON.parse(text);
        resolve(parsed && typeof parsed === 'object' ? (parsed as Record<string, unknown>) : {});
      } catch {
        resolve({});
      }
    });
    req.on('error', () => resolve({}));
  });
}

/**
 * Starts the sink on 127.0.0.1. Guarantees: every sendMessage that got `ok: true` is in `messages`
 * exactly once, in the order the sink read the requests; message ids are unique per sink.
 */
export async function startBotApiSink(options: BotApiSinkOptions): Promise<BotApiSink> {
  const bot = options.bot ?? { id: 777_000_001, username: 'inner_talk_bench_bot', firstName: 'Inner Talk (bench)' };
  const botUser = { id: bot.id, is_bot: true, first_name: bot.firstName, username: bot.username };
  const messages: SinkMessage[] = [];
  const counts: Record<string, number> = {};
  const unknown: Record<string, number> = {};
  let webhook: WebhookRegistration | null = null;
  let nextMessageId = 1;
  const prefix = `/bot${options.token}/`;

  const send = (res: ServerResponse, status: number, body: unknown) => {
    const json = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(json) });
    res.end(json);
  };
  const ok = (res: ServerResponse, result: unknown) => send(res, 200, { ok: true, result });
  const fail = (res: ServerResponse, code: number, description: string) => send(res, code, { ok: false, error_code: code, description });
  const chatOf = (id: number) => ({ id, type: 'private', first_name: `User ${id}` });

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    if (!path.startsWith('/bot')) return fail(res, 404, 'Not Found');
    if (!path.startsWith(prefix)) return fail(res, 401, 'Unauthorized');
    const method = path.slice(prefix.length);
    const p = await readJson(req);
    const at = Date.now();
    counts[method] = (counts[method] ?? 0) + 1;
    const date = Math.floor(at / 1000);
    switch (method) {
      case 'getMe':
        return ok(res, { ...botUser, can_join_groups: false, can_read_all_group_messages: false, supports_inline_queries: false });
      case 'setWebhook': {
        if (typeof p.url !== 'string' || p.url === '') return fail(res, 400, 'Bad Request: bad webhook: An HTTPS URL must be provided for webhook');
        const max = Number(p.max_connections ?? TELEGRAM_DEFAULT_MAX_CONNECTIONS);
        webhook = {
          url: p.url,
          secretToken: typeof p.secret_token === 'string' ? p.secret_token : null,
          maxConnections: Number.isFinite(max) && max >= 1 ? Math.min(100, Math.floor(max)) : TELEGRAM_DEFAULT_MAX_CONNECTIONS,
          at,
        };
        return ok(res, true);
      }
      case 'deleteWebhook':
        webhook = null;
        return ok(res, true);
      case 'getWebhookInfo':
        return ok(res, { url: webhook?.url ?? '', has_custom_certificate: false, pending_update_count: 0, ...(webhook && { max_connections: webhook.maxConnections }) });
      case 'sendMessage': {
        const chatId = Number(p.chat_id);
        const text = typeof p.text === 'string' ? p.text : '';
        if (!Number.isFinite(chatId)) return fail(res, 400, 'Bad Request: chat not found');
        if (text.length === 0) return fail(res, 400, 'Bad Request: message text is empty');
        if (text.length > 4096) return fail(res, 400, 'Bad Request: message is too long');
        const messageId = nextMessageId++;
        messages.push({ chatId, text, at, messageId });
        return ok(res, { message_id: messageId, from: botUser, chat: chatOf(chatId), date, text, ...(p.reply_markup ? { reply_markup: p.reply_markup } : {}) });
      }
      case 'sendChatAction':
      case 'answerCallbackQuery':
      case 'deleteMessage':
        return ok(res, true);
      case 'editMessageText':
      case 'editMessageReplyMarkup': {
        const chatId = Number(p.chat_id);
        const messageId = Number(p.message_id);
        if (!Number.isFinite(chatId) || !Number.isFinite(messageId)) return ok(res, true); // inline messages
        return ok(res, { message_id: messageId, from: botUser, chat: chatOf(chatId), date, edit_date: date, text: typeof p.text === 'string' ? p.text : '' });
      }
      default:
        unknown[method] = (unknown[method] ?? 0) + 1;
        return fail(res, 404, 'Not Found: method not found');
    }
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch(() => fail(res, 500, 'Internal Server Error'));
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    apiRoot: `http://127.0.0.1:${port}`,
    messages,
    counts: () => ({ ...counts }),
    unknownMethods: () => ({ ...unknown }),
    webhook: () => webhook,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
