/**
 * A strict stand-in for the Telegram Bot API (https://core.telegram.org/bots/api): it refuses what
 * the real Bot API refuses, with Telegram's own error shapes `{ ok: false, error_code, description }`,
 * so a bot that works against it does not merely work against a lenient emulator.
 * telegram-test-api (see ./emulator.ts) accepts unknown chats, empty texts, oversized button data
 * and answers callback queries that were never sent; this one does not.
 *
 * It is Telegram for a test: chats exist only once the test creates them (a person's private chat,
 * a group the bot was added to), updates reach the bot's webhook with the secret-token header and
 * only if their type is among the registered `allowed_updates`, and every Bot API call is recorded
 * with its parameters and its outcome.
 *
 * Request bodies are read the three ways grammY sends them: JSON, urlencoded forms, and
 * multipart/form-data (uploads such as sendDocument, sent with chunked transfer encoding; files are
 * referenced as `attach://<field>`). Multipart is parsed with busboy.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import busboy from 'busboy';
import { postUpdate } from '@inner-talk/testkit';

/** An uploaded file as the stand-in recorded it. */
export interface UploadedFile {
  fileName: string;
  size: number;
  content: Buffer;
}

/** One Bot API call and how the stand-in answered it. */
export interface StrictBotApiCall {
  method: string;
  /** Parameters as sent (form fields with JSON values parsed; `attach://` files resolved to {@link UploadedFile}). */
  params: Record<string, unknown>;
  ok: boolean;
  result?: unknown;
  error?: { error_code: number; description: string };
  /** How the body came: its content type (without parameters) and whether it was chunked. */
  body: { contentType: string; chunked: boolean };
  at: number;
}

/** The webhook the bot registered. */
export interface StrictWebhook {
  url: string;
  secretToken: string | null;
  /** As set by the bot; null when it never set them (Telegram then sends its default set). */
  allowedUpdates: string[] | null;
  maxConnections: number;
}

/** One update handed to the bot (webhook POST, or a getUpdates answer). */
export interface DeliveryResult {
  delivered: boolean;
  /** HTTP status the webhook answered (webhook mode only). */
  status?: number;
  /** Why it was not delivered. */
  reason?: 'not_allowed' | 'queued_for_polling';
}

export type GroupKind = 'group' | 'supergroup' | 'channel';

export interface StrictBotApiOptions {
  token: string;
  bot?: { id: number; username: string; firstName: string };
  port?: number;
}

export interface StrictBotApi {
  /** grammY's `apiRoot` / TELEGRAM_API_ROOT. */
  readonly apiRoot: string;
  readonly bot: { id: number; username: string; firstName: string };
  /** Every call, oldest first (a live array: read, never modify). */
  readonly calls: readonly StrictBotApiCall[];
  /** Calls of one method, oldest first. */
  callsOf(method: string): StrictBotApiCall[];
  /** The registered webhook, or null. */
  webhook(): StrictWebhook | null;
  /** `allowed_updates` of the last getUpdates that set them (polling), or null. */
  pollingAllowedUpdates(): string[] | null;
  /** Makes a person's private chat known (chat id = user id, as in Telegram). */
  addPrivateChat(userId: number): void;
  /** Makes a group, supergroup or channel known, with the bot as a member. */
  addGroup(chatId: number, kind: GroupKind): void;
  /** The person blocked the bot: sends to their chat fail with 403. */
  blockBy(userId: number): void;
  /** True while the bot is a member of the group (false after leaveChat or a kick). */
  isMember(chatId: number): boolean;
  /** The bot was removed from the group. */
  kickFrom(chatId: number): void;
  /**
   * Hands an update to the bot as Telegram would: POSTs it to the webhook with the secret-token
   * header, unless its type is not among the registered `allowed_updates` (then it is dropped, as
   * Telegram drops it). Without a webhook it waits for getUpdates. A callback_query becomes
   * answerable once delivered.
   */
  deliver(update: { update_id: number } & Record<string, unknown>): Promise<DeliveryResult>;
  close(): Promise<void>;
}

/** Telegram's update types sent when `allowed_updates` is not set (all but these three). */
const NOT_SENT_BY_DEFAULT = new Set(['chat_member', 'message_reaction', 'message_reaction_count']);
/** Parameters grammY sends as JSON inside form fields. */
const JSON_FIELDS = new Set(['reply_markup', 'allowed_updates', 'entities', 'caption_entities', 'commands', 'scope', 'link_preview_options', 'reply_parameters']);
const TEXT_LIMIT = 4096;
const CAPTION_LIMIT = 1024;
const CALLBACK_DATA_LIMIT_BYTES = 64;
const SECRET_TOKEN = /^[A-Za-z0-9_-]{1,256}$/;

/** A refusal with Telegram's error code and description. */
class BotApiRefusal extends Error {
  override readonly name = 'BotApiRefusal';
  constructor(
    readonly code: number,
    readonly description: string,
  ) {
    super(description);
  }
}

const refuse = (code: number, description: string): never => {
  throw new BotApiRefusal(code, description);
};

interface KnownChat {
  id: number;
  type: 'private' | GroupKind;
  member: boolean;
  blocked: boolean;
}

interface StoredMessage {
  text?: string;
  caption?: string;
  replyMarkup: string;
}

/**
 * Starts the stand-in on 127.0.0.1. Guarantees: every call is recorded before it is answered; a
 * refused call changes nothing; message ids are unique per chat.
 */
export async function startStrictBotApi(options: StrictBotApiOptions): Promise<StrictBotApi> {
  const bot = options.bot ?? { id: 700_000_001, username: 'inner_talk_test_bot', firstName: 'Inner Talk (test)' };
  const botUser = { id: bot.id, is_bot: true, first_name: bot.firstName, username: bot.username };
  const calls: StrictBotApiCall[] = [];
  const chats = new Map<number, KnownChat>();
  const messages = new Map<string, StoredMessage>();
  const openQueries = new Set<string>();
  const pending: ({ update_id: number } & Record<string, unknown>)[] = [];
  let webhook: StrictWebhook | null = null;
  let pollingAllowed: string[] | null = null;
  let nextMessageId = 1;
  const prefix = `/bot${options.token}/`;

  const chatOf = (params: Record<string, unknown>): KnownChat => {
    const id = Number(params.chat_id);
    const chat = Number.isSafeInteger(id) ? chats.get(id) : undefined;
    if (!chat) return refuse(400, 'Bad Request: chat not found');
    if (chat.type === 'private' && chat.blocked) refuse(403, 'Forbidden: bot was blocked by the user');
    if (chat.type !== 'private' && !chat.member) refuse(403, `Forbidden: bot is not a member of the ${chat.type} chat`);
    return chat;
  };
  const chatJson = (chat: KnownChat) => (chat.type === 'private' ? { id: chat.id, type: 'private', first_name: `User ${chat.id}` } : { id: chat.id, type: chat.type, title: `Chat ${chat.id}` });
  const messageKey = (chatId: number, messageId: unknown) => `${chatId}|${String(messageId)}`;
  const markupOf = (params: Record<string, unknown>): string => {
    const markup = params.reply_markup;
    if (markup === undefined) return '';
    checkReplyMarkup(markup);
    return JSON.stringify(markup);
  };

  const methods: Record<string, (params: Record<string, unknown>) => unknown> = {
    getMe: () => ({ ...botUser, can_join_groups: true, can_read_all_group_messages: false, supports_inline_queries: false }),
    setWebhook: (p) => {
      if (typeof p.url !== 'string' || p.url === '') return refuse(400, 'Bad Request: bad webhook: An HTTPS URL must be provided for webhook');
      if (p.secret_token !== undefined && !(typeof p.secret_token === 'string' && SECRET_TOKEN.test(p.secret_token))) {
        return refuse(400, 'Bad Request: secret token contains unallowed characters');
      }
      const allowed = p.allowed_updates === undefined ? (webhook?.allowedUpdates ?? null) : stringList(p.allowed_updates);
      const max = Number(p.max_connections ?? 40);
      webhook = { url: p.url, secretToken: typeof p.secret_token === 'string' ? p.secret_token : null, allowedUpdates: allowed, maxConnections: Number.isFinite(max) ? Math.min(100, Math.max(1, max)) : 40 };
      return true;
    },
    deleteWebhook: () => {
      webhook = null;
      return true;
    },
    getWebhookInfo: () => ({
      url: webhook?.url ?? '',
      has_custom_certificate: false,
      pending_update_count: pending.length,
      ...(webhook && { max_connections: webhook.maxConnections }),
      ...(webhook?.allowedUpdates && { allowed_updates: webhook.allowedUpdates }),
    }),
    getUpdates: (p) => {
      if (webhook) return refuse(409, "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first");
      if (p.allowed_updates !== undefined) pollingAllowed = stringList(p.allowed_updates);
      const offset = Number(p.offset ?? 0);
      // Asking for a later offset confirms the earlier updates: Telegram forgets them.
      while (pending.length > 0 && pending[0]!.update_id < offset) pending.shift();
      return pending.filter((u) => isAllowed(u, pollingAllowed)).slice(0, Number(p.limit ?? 100));
    },
    sendMessage: (p) => {
      const chat = chatOf(p);
      const text = typeof p.text === 'string' ? p.text : '';
      if (text.trim() === '') return refuse(400, 'Bad Request: message text is empty');
      if (visibleLength(text, p.parse_mode) > TEXT_LIMIT) return refuse(400, 'Bad Request: message is too long');
      const replyMarkup = markupOf(p);
      const messageId = nextMessageId++;
      messages.set(messageKey(chat.id, messageId), { text, replyMarkup });
      return { message_id: messageId, from: botUser, chat: chatJson(chat), date: now(), text, ...(replyMarkup && { reply_markup: JSON.parse(replyMarkup) as unknown }) };
    },
    sendDocument: (p) => {
      const chat = chatOf(p);
      const document = p.document;
      if (document === undefined || document === '') return refuse(400, 'Bad Request: there is no document in the request');
      if (typeof document === 'string' && document.startsWith('attach://')) return refuse(400, 'Bad Request: wrong file identifier/HTTP URL specified');
      const caption = typeof p.caption === 'string' ? p.caption : undefined;
      if (caption !== undefined && visibleLength(caption, p.parse_mode) > CAPTION_LIMIT) return refuse(400, 'Bad Request: message caption is too long');
      const replyMarkup = markupOf(p);
      const messageId = nextMessageId++;
      messages.set(messageKey(chat.id, messageId), { ...(caption !== undefined && { caption }), replyMarkup });
      const file = document as Partial<UploadedFile>;
      return {
        message_id: messageId,
        from: botUser,
        chat: chatJson(chat),
        date: now(),
        document: { file_id: `doc${messageId}`, file_unique_id: `udoc${messageId}`, file_name: file.fileName, file_size: file.size },
        ...(caption !== undefined && { caption }),
      };
    },
    sendChatAction: (p) => {
      chatOf(p);
      if (typeof p.action !== 'string' || p.action === '') return refuse(400, 'Bad Request: wrong parameter action in request');
      return true;
    },
    answerCallbackQuery: (p) => {
      const id = String(p.callback_query_id ?? '');
      if (!openQueries.delete(id)) return refuse(400, 'Bad Request: query is too old and response timeout expired or query ID is invalid');
      return true;
    },
    editMessageReplyMarkup: (p) => {
      const chat = chatOf(p);
      const stored = messages.get(messageKey(chat.id, p.message_id));
      if (!stored) return refuse(400, 'Bad Request: message to edit not found');
      const replyMarkup = markupOf(p);
      const emptied = (m: string) => (m === '' || m === '{"inline_keyboard":[]}' ? '' : m);
      if (emptied(replyMarkup) === emptied(stored.replyMarkup)) return refuse(400, NOT_MODIFIED);
      stored.replyMarkup = emptied(replyMarkup);
      return { message_id: Number(p.message_id), from: botUser, chat: chatJson(chat), date: now(), edit_date: now(), ...(stored.text !== undefined && { text: stored.text }) };
    },
    editMessageText: (p) => {
      const chat = chatOf(p);
      const stored = messages.get(messageKey(chat.id, p.message_id));
      if (!stored || stored.text === undefined) return refuse(400, 'Bad Request: message to edit not found');
      const text = typeof p.text === 'string' ? p.text : '';
      if (text.trim() === '') return refuse(400, 'Bad Request: message text is empty');
      if (visibleLength(text, p.parse_mode) > TEXT_LIMIT) return refuse(400, 'Bad Request: message is too long');
      const replyMarkup = markupOf(p);
      if (text === stored.text && replyMarkup === stored.replyMarkup) return refuse(400, NOT_MODIFIED);
      Object.assign(stored, { text, replyMarkup });
      return { message_id: Number(p.message_id), from: botUser, chat: chatJson(chat), date: now(), edit_date: now(), text };
    },
    deleteMessage: (p) => {
      const chat = chatOf(p);
      if (!messages.delete(messageKey(chat.id, p.message_id))) return refuse(400, 'Bad Request: message to delete not found');
      return true;
    },
    leaveChat: (p) => {
      const chat = chatOf(p);
      if (chat.type === 'private') return refuse(400, "Bad Request: chat member status can't be changed in private chats");
      chat.member = false;
      return true;
    },
    setMyCommands: (p) => {
      const commands = p.commands;
      if (!Array.isArray(commands)) return refuse(400, 'Bad Request: parameter "commands" is required');
      for (const c of commands as { command?: unknown; description?: unknown }[]) {
        if (typeof c.command !== 'string' || !/^[a-z0-9_]{1,32}$/.test(c.command)) return refuse(400, 'Bad Request: BOT_COMMAND_INVALID');
        if (typeof c.description !== 'string' || c.description.length < 1 || c.description.length > 256) return refuse(400, 'Bad Request: BOT_COMMAND_DESCRIPTION_INVALID');
      }
      return true;
    },
  };

  const send = (res: ServerResponse, status: number, body: unknown) => {
    const json = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(json) });
    res.end(json);
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const [path = '/', query = ''] = (req.url ?? '/').split('?');
    if (!path.startsWith('/bot')) return send(res, 404, { ok: false, error_code: 404, description: 'Not Found' });
    if (!path.startsWith(prefix)) {
      req.resume();
      return send(res, 401, { ok: false, error_code: 401, description: 'Unauthorized' });
    }
    const method = path.slice(prefix.length);
    const params = { ...formValues(new URLSearchParams(query)), ...(await readParams(req)) };
    const body = { contentType: (req.headers['content-type'] ?? '').split(';')[0]!.trim(), chunked: req.headers['transfer-encoding'] === 'chunked' };
    const call: StrictBotApiCall = { method, params, ok: false, body, at: Date.now() };
    calls.push(call);
    const run = methods[method];
    if (!run) {
      call.error = { error_code: 404, description: 'Not Found' };
      return send(res, 404, { ok: false, ...call.error });
    }
    try {
      call.result = run(params);
      call.ok = true;
      return send(res, 200, { ok: true, result: call.result });
    } catch (error) {
      if (!(error instanceof BotApiRefusal)) throw error;
      call.error = { error_code: error.code, description: error.description };
      return send(res, error.code, { ok: false, ...call.error });
    }
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (res.headersSent) return;
      const refusal = error instanceof BotApiRefusal ? error : new BotApiRefusal(400, 'Bad Request: request body is malformed');
      send(res, refusal.code, { ok: false, error_code: refusal.code, description: refusal.description });
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  return {
    apiRoot: `http://127.0.0.1:${port}`,
    bot,
    calls,
    callsOf: (method) => calls.filter((c) => c.method === method),
    webhook: () => webhook,
    pollingAllowedUpdates: () => pollingAllowed,
    addPrivateChat: (userId) => void chats.set(userId, { id: userId, type: 'private', member: true, blocked: false }),
    addGroup: (chatId, kind) => void chats.set(chatId, { id: chatId, type: kind, member: true, blocked: false }),
    blockBy: (userId) => {
      const chat = chats.get(userId);
      if (chat) chat.blocked = true;
    },
    isMember: (chatId) => chats.get(chatId)?.member ?? false,
    kickFrom: (chatId) => {
      const chat = chats.get(chatId);
      if (chat) chat.member = false;
    },
    deliver: async (update) => {
      const query = update.callback_query as { id?: unknown } | undefined;
      if (!webhook) {
        if (typeof query?.id === 'string') openQueries.add(query.id);
        pending.push(update);
        return { delivered: false, reason: 'queued_for_polling' };
      }
      if (!isAllowed(update, webhook.allowedUpdates)) return { delivered: false, reason: 'not_allowed' };
      if (typeof query?.id === 'string') openQueries.add(query.id);
      const response = await postUpdate(webhook.url, update, webhook.secretToken);
      await response.arrayBuffer();
      return { delivered: true, status: response.status };
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

const NOT_MODIFIED = 'Bad Request: message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message';

const now = () => Math.floor(Date.now() / 1000);

/** The update's type: its one field besides `update_id`. */
function updateType(update: Record<string, unknown>): string | undefined {
  return Object.keys(update).find((k) => k !== 'update_id');
}

function isAllowed(update: Record<string, unknown>, allowed: string[] | null): boolean {
  const type = updateType(update);
  if (type === undefined) return false;
  // An empty list means "the default set", as in Telegram.
  if (!allowed || allowed.length === 0) return !NOT_SENT_BY_DEFAULT.has(type);
  return allowed.includes(type);
}

function stringList(value: unknown): string[] {
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) return refuse(400, "Bad Request: can't parse allowed updates");
  return value as string[];
}

/**
 * Length of a text as Telegram measures it: after entity parsing (markup removed), in UTF-16 code
 * units. HTML tags and entities are resolved; MarkdownV2 escapes and markers are approximated by
 * dropping markers that are not escaped.
 */
function visibleLength(text: string, parseMode: unknown): number {
  if (parseMode === 'HTML') return text.replace(/<[^>]*>/g, '').replace(/&(lt|gt|amp|quot|#\d+|#x[0-9a-f]+);/gi, '_').length;
  if (parseMode === 'MarkdownV2' || parseMode === 'Markdown') return text.replace(/\\(.)/g, '$1').replace(/(?<!\\)[*_~`|]/g, '').length;
  return text.length;
}

/** Checks an inline keyboard as Telegram does: each callback button's data is 1–64 bytes. */
function checkReplyMarkup(markup: unknown): void {
  if (typeof markup !== 'object' || markup === null) return refuse(400, "Bad Request: can't parse reply keyboard markup JSON object");
  const keyboard = (markup as { inline_keyboard?: unknown }).inline_keyboard;
  if (keyboard === undefined) return;
  if (!Array.isArray(keyboard) || !keyboard.every(Array.isArray)) return refuse(400, 'Bad Request: field "inline_keyboard" of the InlineKeyboardMarkup should be an Array of Arrays');
  for (const row of keyboard as unknown[][]) {
    for (const button of row as { text?: unknown; callback_data?: unknown }[]) {
      if (typeof button.text !== 'string' || button.text === '') return refuse(400, 'Bad Request: text buttons are unallowed in the inline keyboard');
      if (button.callback_data === undefined) continue;
      const data = String(button.callback_data);
      const bytes = Buffer.byteLength(data, 'utf8');
      if (bytes === 0 || bytes > CALLBACK_DATA_LIMIT_BYTES) return refuse(400, 'Bad Request: BUTTON_DATA_INVALID');
    }
  }
}

/** Form values with the fields grammY JSON-encodes parsed back. */
function formValues(entries: Iterable<[string, string]>): Record<string, unknown> {
  const params: Record<string, unknown> = {};
  for (const [name, value] of entries) {
    if (JSON_FIELDS.has(name)) {
      try {
        params[name] = JSON.parse(value) as unknown;
        continue;
      } catch {
        refuse(400, `Bad Request: can't parse ${name} JSON object`);
      }
    }
    params[name] = value;
  }
  return params;
}

/** The request's parameters from a JSON, urlencoded or multipart body (empty for no body). */
async function readParams(req: IncomingMessage): Promise<Record<string, unknown>> {
  const type = (req.headers['content-type'] ?? '').toLowerCase();
  if (type.startsWith('multipart/form-data')) return readMultipart(req);
  const body = await readAll(req);
  if (body.length === 0) return {};
  if (type.startsWith('application/x-www-form-urlencoded')) return formValues(new URLSearchParams(body.toString('utf8')));
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    return refuse(400, 'Bad Request: request body is not valid JSON');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return refuse(400, 'Bad Request: request body is not a JSON object');
  return parsed as Record<string, unknown>;
}

function readAll(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/** Multipart fields and files; a field `attach://<name>` is replaced by the file of part `<name>`. */
function readMultipart(req: IncomingMessage): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const fields: [string, string][] = [];
    const files = new Map<string, UploadedFile>();
    let parser: busboy.Busboy;
    try {
      parser = busboy({ headers: req.headers });
    } catch {
      reject(new BotApiRefusal(400, 'Bad Request: multipart body without boundary'));
      return;
    }
    parser.on('field', (name, value) => fields.push([name, value]));
    parser.on('file', (name, stream, info) => {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const content = Buffer.concat(chunks);
        files.set(name, { fileName: info.filename ?? name, size: content.length, content });
      });
    });
    parser.on('error', () => reject(new BotApiRefusal(400, 'Bad Request: multipart body is malformed')));
    parser.on('close', () => {
      try {
        const params = formValues(fields);
        const attached = new Set<string>();
        for (const [name, value] of Object.entries(params)) {
          if (typeof value !== 'string' || !value.startsWith('attach://')) continue;
          const file = files.get(value.slice('attach://'.length));
          if (file) attached.add(value.slice('attach://'.length));
          params[name] = file ?? value;
        }
        // A file sent directly under the parameter's name (not through attach://) is that parameter.
        for (const [name, file] of files) if (!attached.has(name) && !(name in params)) params[name] = file;
        resolve(params);
      } catch (error) {
        reject(error instanceof Error ? error : new Error(String(error)));
      }
    });
    req.pipe(parser);
  });
}
