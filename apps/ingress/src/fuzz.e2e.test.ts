/**
 * Robustness of the real ingress process (webhook mode) against what the internet can send it:
 * well over 10,000 generated bad requests — malformed JSON, wrong shapes, wrong or missing secrets,
 * oversized bodies, wrong methods and paths, invalid UTF-8, out-of-range update ids, JSON nested
 * too deeply, broken HTTP on raw sockets — mixed with valid updates of every kind Telegram sends
 * (photos, voice, stickers, edits, membership changes, very long texts, control characters).
 *
 * The oracle is the README's contract: 404 off the webhook path, 405 for other methods, 401 without
 * the exact secret, 413 above MAX_BODY_BYTES, 400 for a body that is not a storable update, and 200
 * only once the update is stored. Afterwards the process must still be alive and take a valid
 * update; every update answered 200 must be in its chat's inbox exactly once, as sent (updates
 * from groups, channels and shared senders in their cut-down form, see private-only.ts), with a job;
 * nothing else may be stored; the logs must hold neither the secret nor any message text.
 *
 * Reproduce a failure with the seed it prints: FUZZ_SEED=<seed> pnpm exec jest apps/ingress/src/fuzz.e2e.test.ts
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import { isDeepStrictEqual } from 'node:util';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { createRng, type Rng } from '@inner-talk/mocks';
import { ChatInbox, chatKeyOf, QUEUE_NAMES, type TelegramUpdatePayload } from '@inner-talk/queue';
import { freePort, postUpdate, serviceUrls, spawnApp, textUpdate, uniquePrefix, WEBHOOK_SECRET_HEADER, type AppProcess } from '@inner-talk/testkit';
import { parseKeyring, Vault } from '@inner-talk/vault';
import { inboxFormOf } from './private-only';

const SEED = Number(process.env.FUZZ_SEED ?? 20261203);
/** Generated requests that must not be answered 200. */
const BAD_REQUESTS = 10_500;
const CONCURRENCY = 16;
const MAX_BODY_BYTES = 64 * 1024;
const PATH = '/telegram/webhook';
const SECRET = 'fuzz_Secret-Token_0123456789_abcdefghij';
/** In every generated text: the logs must never contain it. */
const MARKER = 'fz-private-words';

// ---------------------------------------------------------------- the oracle

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

interface Verdict {
  status: number;
  /** For 200: the update as it must be stored. */
  update?: Record<string, unknown>;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** What the ingress must answer, from the README's contract (written independently of webhook.ts). */
function judge(method: string, target: string, secret: string | undefined, body: Buffer): Verdict {
  if (target.split('?')[0] !== PATH) return { status: 404 };
  if (method !== 'POST') return { status: 405 };
  if (secret !== SECRET) return { status: 401 };
  if (body.length > MAX_BODY_BYTES) return { status: 413 };
  let json: unknown;
  try {
    json = JSON.parse(body.toString('utf8'));
  } catch {
    return { status: 400 };
  }
  if (!isRecord(json) || typeof json.update_id !== 'number' || !Number.isSafeInteger(json.update_id) || json.update_id < 0) return { status: 400 };
  // Private chats are stored as sent; anything else cut down to what the note and leaving need
  // (which may leave out what made it unstorable).
  const stored = inboxFormOf(withoutProto(json) as TelegramUpdatePayload);
  try {
    JSON.stringify(stored);
  } catch {
    return { status: 400 }; // nested too deeply to serialise: it can never be stored
  }
  return { status: 200, update: stored };
}

/** The update without a top-level `__proto__` key, which schema parsing drops (Telegram never sends one). */
function withoutProto(update: Record<string, unknown>): Record<string, unknown> {
  const copy: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(update)) if (key !== '__proto__') copy[key] = value;
  return copy;
}

/** The stored form of an accepted update (see judge): JSON round-tripped, so -0 is 0. */
function storedForm(update: Record<string, unknown>): unknown {
  return JSON.parse(JSON.stringify(update));
}

// ---------------------------------------------------------------- generators

const pick = <T>(rng: Rng, items: readonly T[]): T => items[Math.floor(rng() * items.length)]!;
const int = (rng: Rng, min: number, max: number) => min + Math.floor(rng() * (max - min + 1));

const CONTROL = Array.from({ length: 32 }, (_, i) => String.fromCharCode(i)).concat(['\u007f', '\u2028', '\u2029', '\ufeff', '\u200b', '\ud800', '\udfff', '\u202e']);
const WORDS = ['I', 'feel', 'тревожно', 'сегодня', 'ок', 'hello', '🙂', '🧠', 'שלום', 'مرحبا', '日本語', 'e\u0301', '"quoted"', '\\', '/', '<b>x</b>', '${x}', '%s', '\\u0000'];

function text(rng: Rng): string {
  const parts = [MARKER];
  const length = rng() < 0.08 ? int(rng, 4_096, 40_000) : int(rng, 0, 30);
  if (length > 1_000) return `${MARKER} ${'long '.repeat(Math.ceil(length / 5))}`.slice(0, length + MARKER.length);
  for (let i = 0; i < length; i++) parts.push(rng() < 0.3 ? pick(rng, CONTROL) : pick(rng, WORDS));
  return parts.join(rng() < 0.5 ? ' ' : '');
}

/** A Telegram id, sometimes as a string ("numbers as strings"), sometimes of a group or channel. */
function id(rng: Rng, base: number): Json {
  const value = rng() < 0.1 ? -(1_000_000_000_000 + base) : base;
  return rng() < 0.1 ? String(value) : value;
}

function chat(rng: Rng): { [key: string]: Json } {
  return { id: id(rng, int(rng, 900_000, 900_200)), type: pick(rng, ['private', 'group', 'supergroup', 'channel']) };
}

function user(rng: Rng): { [key: string]: Json } {
  return { id: id(rng, int(rng, 900_000, 900_200)), is_bot: rng() < 0.05, first_name: text(rng).slice(0, 64), language_code: pick(rng, ['en', 'ru', 'xx', '']) };
}

function message(rng: Rng): { [key: string]: Json } {
  const base: { [key: string]: Json } = { message_id: id(rng, int(rng, 1, 1e6)), date: rng() < 0.05 ? 'yesterday' : int(rng, 0, 2e9), chat: chat(rng), from: user(rng) };
  const kind = pick(rng, ['text', 'text', 'text', 'photo', 'voice', 'sticker', 'document', 'video_note', 'location', 'contact', 'dice', 'poll', 'empty']);
  switch (kind) {
    case 'text':
      return { ...base, text: text(rng), ...(rng() < 0.3 && { entities: [{ type: 'bold', offset: int(rng, -5, 50), length: int(rng, 0, 99) }] }) };
    case 'photo':
      return { ...base, photo: [{ file_id: 'AgAD', file_unique_id: 'x', width: 90, height: 90 }], ...(rng() < 0.5 && { caption: text(rng) }) };
    case 'voice':
      return { ...base, voice: { file_id: 'AwAD', file_unique_id: 'y', duration: int(rng, 0, 600) } };
    case 'sticker':
      return { ...base, sticker: { file_id: 'CAAD', file_unique_id: 'z', type: 'regular', width: 512, height: 512, is_animated: false, is_video: false } };
    case 'document':
      return { ...base, document: { file_id: 'BQAD', file_unique_id: 'w', file_name: text(rng).slice(0, 40) } };
    case 'video_note':
      return { ...base, video_note: { file_id: 'DQAD', file_unique_id: 'v', length: 240, duration: 3 } };
    case 'location':
      return { ...base, location: { latitude: rng() * 180 - 90, longitude: rng() * 360 - 180 } };
    case 'contact':
      return { ...base, contact: { phone_number: '+10000000000', first_name: 'C' } };
    case 'dice':
      return { ...base, dice: { emoji: '🎲', value: int(rng, 1, 6) } };
    case 'poll':
      return { ...base, poll: { id: 'p', question: text(rng).slice(0, 100), options: [], is_closed: false } };
    default:
      return base;
  }
}

/** A well-formed update of any kind Telegram sends (and one it may send some day). */
function validUpdate(rng: Rng, updateId: Json): { [key: string]: Json } {
  const kind = pick(rng, [
    'message',
    'message',
    'message',
    'edited_message',
    'channel_post',
    'edited_channel_post',
    'callback_query',
    'inline_query',
    'my_chat_member',
    'chat_member',
    'chat_join_request',
    'poll_answer',
    'message_reaction',
    'business_message',
    'future_kind',
    'bare',
  ]);
  const update: { [key: string]: Json } = { update_id: updateId };
  switch (kind) {
    case 'message':
    case 'edited_message':
    case 'channel_post':
    case 'edited_channel_post':
    case 'business_message':
      update[kind] = { ...message(rng), ...(kind.startsWith('edited') && { edit_date: int(rng, 0, 2e9) }) };
      break;
    case 'callback_query':
      update[kind] = { id: String(int(rng, 1, 1e9)), from: user(rng), chat_instance: '1', data: text(rng).slice(0, 64), ...(rng() < 0.7 && { message: message(rng) }) };
      break;
    case 'inline_query':
      update[kind] = { id: 'q', from: user(rng), query: text(rng).slice(0, 256), offset: '' };
      break;
    case 'my_chat_member':
    case 'chat_member':
      update[kind] = { chat: chat(rng), from: user(rng), date: 0, old_chat_member: { status: 'member', user: user(rng) }, new_chat_member: { status: 'kicked', user: user(rng), until_date: 0 } };
      break;
    case 'chat_join_request':
      update[kind] = { chat: chat(rng), from: user(rng), user_chat_id: int(rng, 1, 1e9), date: 0 };
      break;
    case 'poll_answer':
      update[kind] = { poll_id: 'p', user: user(rng), option_ids: [int(rng, 0, 3)] };
      break;
    case 'message_reaction':
      update[kind] = { chat: chat(rng), message_id: 1, date: 0, old_reaction: [], new_reaction: [{ type: 'emoji', emoji: '👍' }] };
      break;
    case 'future_kind':
      update[kind] = { anything: [1, 'two', { three: null }], flag: true, note: text(rng).slice(0, 40) };
      break;
    default:
      break; // only an update_id: valid, if useless
  }
  return update;
}

/** Malformed JSON made from a valid body: each mutation breaks it (or, rarely, not; the oracle decides). */
function malformed(rng: Rng, json: string): string {
  switch (int(rng, 0, 11)) {
    case 0:
      return json.slice(0, int(rng, 0, json.length - 1)); // truncated
    case 1: {
      const at = int(rng, 0, json.length - 1);
      return json.slice(0, at) + pick(rng, ['{', '}', '[', ']', '"', ',', ':', '\\', "'", 'x']) + json.slice(at);
    }
    case 2: {
      const at = int(rng, 0, json.length - 1);
      return json.slice(0, at) + json.slice(at + 1);
    }
    case 3:
      return json.replace(/"/g, "'");
    case 4:
      return `${json}${pick(rng, ['}', ']', ',', ' garbage', '\u0000', '{}'])}`;
    case 5:
      return `\ufeff${json}`; // a byte order mark: not JSON
    case 6:
      return pick(rng, ['', ' ', '\n', 'null,', 'undefined', 'NaN', 'Infinity', '{', '}', '[', '"', "{'update_id': 1}", '{update_id: 1}', '/* c */ {"update_id": 1}']);
    case 7:
      return json.replace(/"update_id":\s*\d+/, `"update_id": ${pick(rng, ['NaN', 'Infinity', '-Infinity', '0x1F', '01', '+1', '.5', '1.', '1e', '--1', 'undefined'])}`);
    case 8:
      return json.replace(/}$/, ',}'); // trailing comma
    case 9:
      return json.replace(/"([a-z_]+)":/, '$1:'); // unquoted key
    case 10:
      return json.replace(/"(\w)/, '"\\$1'); // invalid escape
    default:
      return `${json.slice(0, -1)}, "text": "unterminated}`;
  }
}

/** Parses but is not an update: arrays, scalars, and update_ids of every wrong kind and range. */
function wrongShape(rng: Rng, nextId: () => number): string {
  const good = validUpdate(rng, nextId());
  const n = nextId();
  return pick(rng, [
    () => '[]',
    () => JSON.stringify([good]),
    () => 'null',
    () => 'true',
    () => String(n),
    () => JSON.stringify(String(n)),
    () => '{}',
    () => JSON.stringify({ ...good, update_id: String(n) }), // the number as a string
    () => JSON.stringify({ ...good, update_id: n + 0.5 }),
    () => JSON.stringify({ ...good, update_id: -n }),
    () => JSON.stringify({ ...good, update_id: -1 }),
    () => JSON.stringify({ ...good, update_id: Number.MAX_SAFE_INTEGER + 1 }),
    () => `{"update_id": ${pick(rng, ['1e21', '1e400', '-1e400', '9007199254740993', '18446744073709551616', '-0.5'])}}`,
    () => JSON.stringify({ ...good, update_id: pick(rng, [true, false, null, [n], { n }, '']) }),
    () => JSON.stringify({ updateId: n, message: good.message ?? null }),
    () => JSON.stringify({ UPDATE_ID: n }),
    () => JSON.stringify({ 'update_id ': n }),
    () => JSON.stringify({ update: good }),
    () => `{"update_id": ${n}, "update_id": "${n}"}`, // duplicate key: the last one wins
    () => `{"__proto__": {"update_id": ${n}}}`,
    () => JSON.stringify({ constructor: { prototype: { update_id: n } } }),
  ])();
}

interface Request {
  kind: string;
  method: string;
  target: string;
  headers: Record<string, string>;
  body: Buffer;
}

interface Generated extends Request {
  verdict: Verdict;
}

/** Raw-socket abuse: bytes on the wire and the answers allowed for them (null: closed without one). */
interface RawCase {
  kind: string;
  chunks: Buffer[];
  /** How the client ends: a FIN after writing, a reset, or waiting for the server. */
  end: 'fin' | 'reset' | 'wait';
  allowed: ReadonlyArray<number | null>;
}

function secretHeaders(secret: string | undefined): Record<string, string> {
  return { 'content-type': 'application/json', ...(secret !== undefined && { [WEBHOOK_SECRET_HEADER]: secret }) };
}

function generator(seed: number) {
  const rng = createRng(seed);
  let counter = 1_000;
  const nextId = () => (counter += int(rng, 1, 3));
  const accepted: Buffer[] = [];

  const request = (kind: string, body: Buffer | string, over: Partial<Request> = {}): Generated => {
    const req: Request = { kind, method: 'POST', target: PATH, headers: secretHeaders(SECRET), body: Buffer.isBuffer(body) ? body : Buffer.from(body, 'utf8'), ...over };
    // What the server will see: fetch resolves dot segments of the URL before sending it.
    const url = new URL(req.target, 'http://127.0.0.1');
    req.target = `${url.pathname}${url.search}`;
    const secret = Object.entries(req.headers).find(([name]) => name.toLowerCase() === WEBHOOK_SECRET_HEADER)?.[1];
    // fetch trims a header value's surrounding blanks before sending it.
    const verdict = judge(req.method, req.target, secret?.replace(/^[ \t]+|[ \t]+$/g, ''), req.body);
    if (verdict.status === 200) accepted.push(req.body);
    return { ...req, verdict };
  };

  const cases: Array<() => Generated> = [
    () => request('valid update', JSON.stringify(validUpdate(rng, nextId()))),
    () => request('valid update', JSON.stringify(validUpdate(rng, nextId()))),
    () => request('redelivery', accepted.length ? pick(rng, accepted) : JSON.stringify(validUpdate(rng, nextId()))),
    () => request('malformed JSON', malformed(rng, JSON.stringify(validUpdate(rng, nextId())))),
    () => request('malformed JSON', malformed(rng, JSON.stringify(validUpdate(rng, nextId())))),
    () => request('wrong shape', wrongShape(rng, nextId)),
    () => request('wrong shape', wrongShape(rng, nextId)),
    () => {
      const secret = pick(rng, [undefined, '', 'wrong', SECRET.toLowerCase(), `${SECRET}x`, SECRET.slice(1), `${SECRET},${SECRET}`, `${SECRET}\u00ff`, 'x'.repeat(int(rng, 1, 8_000)), SECRET.replace('_', '-')]);
      return request('wrong secret', JSON.stringify(validUpdate(rng, nextId())), { headers: secretHeaders(secret) });
    },
    () => request('blank-padded or renamed secret header', JSON.stringify(validUpdate(rng, nextId())), { headers: { 'X-Telegram-Bot-Api-Secret-Token': pick(rng, [SECRET, ` ${SECRET}`, `${SECRET}\t`]) } }),
    () => {
      const size = rng() < 0.8 ? int(rng, MAX_BODY_BYTES + 1, 2 * MAX_BODY_BYTES) : int(rng, 1_000_000, 3_000_000);
      const update = JSON.stringify(validUpdate(rng, nextId()));
      return request('oversized body', `${update.slice(0, -1)},"pad":"${'p'.repeat(size)}"}`, rng() < 0.2 ? { headers: secretHeaders('wrong') } : {});
    },
    () => {
      const method = pick(rng, ['GET', 'HEAD', 'PUT', 'DELETE', 'PATCH', 'OPTIONS']);
      const body = method === 'GET' || method === 'HEAD' ? Buffer.alloc(0) : Buffer.from(JSON.stringify(validUpdate(rng, nextId())));
      return request('wrong method', body, { method });
    },
    () => {
      const target = pick(rng, ['/', '/telegram', `${PATH}/`, `${PATH}x`, PATH.toUpperCase(), `${PATH}%2F`, `/x${PATH}`, `${PATH}/..`, `//${PATH.slice(1)}`, '/metrics', '/healthz', '/readyz', `/${'a'.repeat(int(rng, 1, 4_000))}`, '/%00', '/%zz']);
      return request('wrong path', JSON.stringify(validUpdate(rng, nextId())), { target });
    },
    () => request('query string', JSON.stringify(validUpdate(rng, nextId())), { target: `${PATH}?${pick(rng, ['x=1', '', 'secret=no', '%zz', 'a'.repeat(100)])}` }),
    () => {
      // Invalid UTF-8: inside a string it decodes to U+FFFD (a valid update); outside, never JSON.
      const invalid = Buffer.from(pick(rng, [[0xff], [0xc3, 0x28], [0xe2, 0x28, 0xa1], [0xf0, 0x28, 0x8c, 0xbc], [0xc0, 0xaf], [0xed, 0xa0, 0x80], [0xfe, 0xfe, 0xff, 0xff], [0x80]]));
      const json = JSON.stringify(validUpdate(rng, nextId())).replace(/}$/, ',"note":"@@"}');
      const [head = '', tail = ''] = json.split('@@');
      const body = rng() < 0.6 ? Buffer.concat([Buffer.from(head), invalid, Buffer.from(tail)]) : Buffer.concat([Buffer.from(json.slice(0, 1)), invalid, Buffer.from(json.slice(1))]);
      return request('invalid UTF-8', body);
    },
    () => {
      const depth = rng() < 0.5 ? int(rng, 2, 200) : int(rng, 20_000, 30_000);
      const update = JSON.stringify(validUpdate(rng, nextId()));
      return request('deep nesting', `${update.slice(0, -1)},"deep":${'['.repeat(depth)}${']'.repeat(depth)}}`);
    },
    // Every spelling of one id goes to one chat: they are copies of one update as far as dedupe goes.
    () => request('update_id at the edge', `{"update_id": ${pick(rng, ['-0', '0.0', '0e5', '1e3', '12.000', String(Number.MAX_SAFE_INTEGER)])}, "message": {"text": "${MARKER}", "chat": {"id": 4241}}}`),
    () => request('content type', JSON.stringify(validUpdate(rng, nextId())), { headers: { ...secretHeaders(SECRET), 'content-type': pick(rng, ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/json; charset=latin1', '']) } }),
  ];

  return { next: () => pick(rng, cases)(), rng };
}

function rawCases(rng: Rng, port: number, count: number): RawCase[] {
  const host = `Host: 127.0.0.1:${port}\r\n`;
  const auth = `${WEBHOOK_SECRET_HEADER}: ${SECRET}\r\n`;
  const builders: Array<() => RawCase> = [
    () => ({ kind: 'garbage request line', chunks: [Buffer.from(`${pick(rng, ['GARBAGE', 'POST', 'POST  HTTP/1.1', '\u0000\u0001\u0002', 'GET / HTTP/9.9'])}\r\n\r\n`)], end: 'wait', allowed: [400, 505, null] }),
    () => ({ kind: 'control characters in a header', chunks: [Buffer.from(`POST ${PATH} HTTP/1.1\r\n${host}X-Bad: a\u0000b\r\ncontent-length: 2\r\n\r\n{}`)], end: 'wait', allowed: [400, null] }),
    () => ({ kind: 'content-length and chunked together', chunks: [Buffer.from(`POST ${PATH} HTTP/1.1\r\n${host}${auth}content-length: 5\r\ntransfer-encoding: chunked\r\n\r\n0\r\n\r\n`)], end: 'wait', allowed: [400, null] }),
    () => ({ kind: 'bad content-length', chunks: [Buffer.from(`POST ${PATH} HTTP/1.1\r\n${host}${auth}content-length: ${pick(rng, ['-1', 'abc', '1e3', '99999999999999999999', '5, 6'])}\r\n\r\n{}`)], end: 'wait', allowed: [400, 413, null] }),
    () => ({ kind: 'bad chunk size', chunks: [Buffer.from(`POST ${PATH} HTTP/1.1\r\n${host}${auth}transfer-encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n`)], end: 'wait', allowed: [400, null] }),
    () => ({ kind: 'body cut short, then FIN', chunks: [Buffer.from(`POST ${PATH} HTTP/1.1\r\n${host}${auth}content-length: 1000\r\n\r\n{"update_id": 1`)], end: 'fin', allowed: [400, null] }),
    () => ({ kind: 'body cut short, then reset', chunks: [Buffer.from(`POST ${PATH} HTTP/1.1\r\n${host}${auth}content-length: 1000\r\n\r\n{"update_id": 1`)], end: 'reset', allowed: [null] }),
    () => ({ kind: 'headers cut short', chunks: [Buffer.from(`POST ${PATH} HTTP/1.1\r\n${host}${auth}content-le`)], end: 'fin', allowed: [400, null] }),
    () => {
      const size = int(rng, MAX_BODY_BYTES + 1, 4 * MAX_BODY_BYTES);
      const chunks = [Buffer.from(`POST ${PATH} HTTP/1.1\r\n${host}${auth}transfer-encoding: chunked\r\n\r\n`)];
      for (let left = size; left > 0; left -= 16_384) {
        const n = Math.min(16_384, left);
        chunks.push(Buffer.from(`${n.toString(16)}\r\n${'c'.repeat(n)}\r\n`));
      }
      chunks.push(Buffer.from('0\r\n\r\n'));
      return { kind: 'oversized chunked body', chunks, end: 'wait', allowed: [413] };
    },
    () => ({ kind: 'oversized header', chunks: [Buffer.from(`POST ${PATH} HTTP/1.1\r\n${host}X-Big: ${'b'.repeat(int(rng, 20_000, 80_000))}\r\n\r\n`)], end: 'wait', allowed: [431, 400, null] }),
    () => ({ kind: 'absolute-form target', chunks: [Buffer.from(`POST http://evil.example${PATH} HTTP/1.1\r\n${host}${auth}content-length: 2\r\n\r\n{}`)], end: 'wait', allowed: [400, 404, null] }),
    () => ({ kind: 'HTTP/1.0 without Host', chunks: [Buffer.from(`POST ${PATH} HTTP/1.0\r\n${auth}content-length: 3\r\n\r\n{x}`)], end: 'wait', allowed: [400, null] }),
    () => ({ kind: 'HTTP/1.1 without Host', chunks: [Buffer.from(`POST ${PATH} HTTP/1.1\r\n${auth}content-length: 2\r\n\r\n{}`)], end: 'wait', allowed: [400, null] }),
  ];
  return Array.from({ length: count }, () => pick(rng, builders)());
}

// ---------------------------------------------------------------- transport

/** Sends `req`; resolves with the status, or an error description when no answer came. */
async function send(url: string, req: Request): Promise<number | string> {
  try {
    const res = await fetch(url + req.target, {
      method: req.method,
      headers: req.headers,
      ...(req.body.length > 0 && { body: req.body }),
      signal: AbortSignal.timeout(15_000),
    });
    await res.arrayBuffer().catch(() => undefined);
    return res.status;
  } catch (error) {
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    return `no answer: ${cause?.code ?? cause?.message ?? (error as Error).name}`;
  }
}

/** Writes `c` on a fresh connection; resolves with the first answer's status, or null if none came. */
function sendRaw(port: number, c: RawCase): Promise<number | null> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    let received = '';
    const finish = () => {
      clearTimeout(timer);
      socket.destroy();
      const status = /^HTTP\/1\.[01] (\d{3})/.exec(received)?.[1];
      resolve(status === undefined ? null : Number(status));
    };
    const timer = setTimeout(finish, 3_000);
    socket.on('data', (data: Buffer) => {
      received += data.toString('latin1');
      if (c.end === 'wait' && /\r\n\r\n/.test(received)) finish();
    });
    socket.on('error', () => undefined);
    socket.on('close', finish);
    socket.on('connect', () => {
      for (const chunk of c.chunks) socket.write(chunk);
      if (c.end === 'fin') socket.end();
      if (c.end === 'reset') socket.resetAndDestroy();
    });
  });
}

async function pool<T>(items: readonly T[], width: number, run: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < items.length) await run(items[next++]!);
    }),
  );
}

// ---------------------------------------------------------------- the test

describe(`ingress webhook under ${BAD_REQUESTS}+ generated bad requests (seed ${SEED})`, () => {
  const { redisUrl } = serviceUrls();
  const prefix = uniquePrefix('fuzz');
  const redis = new Redis(redisUrl);
  // The ingress seals what it stores: the test reads the inboxes with the same keyring.
  const keyring = `k1:${randomBytes(32).toString('base64')}`;
  const inbox = new ChatInbox(redis, prefix, new Vault(parseKeyring(keyring)));
  let ingress: AppProcess | undefined;
  let port = 0;

  beforeAll(async () => {
    port = await freePort();
    ingress = await spawnApp({
      name: 'ingress-fuzz',
      entry: 'apps/ingress/src/index.ts',
      env: {
        NODE_ENV: 'development',
        LOG_LEVEL: 'info',
        REDIS_URL: redisUrl,
        REDIS_PREFIX: prefix,
        TELEGRAM_BOT_TOKEN: '271828:fuzz-token',
        INGRESS_MODE: 'webhook',
        WEBHOOK_SECRET: SECRET,
        WEBHOOK_PATH: PATH,
        HTTP_HOST: '127.0.0.1',
        HTTP_PORT: String(port),
        MAX_BODY_BYTES: String(MAX_BODY_BYTES),
        DATA_ENCRYPTION_KEYS: keyring,
      },
      healthUrl: `http://127.0.0.1:${port}/healthz`,
    });
  }, 60_000);

  afterAll(async () => {
    await ingress?.stop('SIGTERM', 10_000);
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      if (keys.length) await redis.del(...keys);
      cursor = next;
    } while (cursor !== '0');
    await redis.quit();
  });

  it('never answers 5xx or hangs, stays up, still takes a valid update, and stores exactly what it acknowledged', async () => {
    const base = `http://127.0.0.1:${port}`;
    const { next, rng } = generator(SEED);
    const generated: Generated[] = [];
    let bad = 0;
    while (bad < BAD_REQUESTS) {
      const g = next();
      generated.push(g);
      if (g.verdict.status !== 200) bad += 1;
    }
    const raw = rawCases(rng, port, 300);

    const startedAt = Date.now();
    const mismatches: string[] = [];
    const tally = new Map<string, number>();
    const count = (key: string) => tally.set(key, (tally.get(key) ?? 0) + 1);
    let serverErrors = 0;
    let unanswered = 0;
    await pool(generated, CONCURRENCY, async (g) => {
      const status = await send(base, g);
      count(`${g.kind} → ${status}`);
      if (typeof status === 'number' && status >= 500) serverErrors += 1;
      if (typeof status === 'string') unanswered += 1;
      if (status !== g.verdict.status) mismatches.push(`${g.kind}: ${g.method} ${g.target.slice(0, 60)} (${g.body.length} bytes) expected ${g.verdict.status}, got ${status}`);
    });
    await pool(raw, 4, async (c) => {
      const status = await sendRaw(port, c);
      count(`raw: ${c.kind} → ${status ?? 'closed'}`);
      if (status !== null && status >= 500) serverErrors += 1;
      if (!c.allowed.includes(status)) mismatches.push(`raw ${c.kind}: expected one of ${c.allowed.join('/')}, got ${status ?? 'closed'}`);
    });
    const elapsedMs = Date.now() - startedAt;
    console.log(
      `[e2e] fuzz seed ${SEED}: ${generated.length + raw.length} requests (${bad} bad over HTTP, ${raw.length} raw-socket, ${generated.length - bad} valid) in ${elapsedMs} ms\n` +
        [...tally.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([k, n]) => `  ${k}: ${n}`).join('\n'),
    );
    expect({ serverErrors, unanswered }).toEqual({ serverErrors: 0, unanswered: 0 });
    expect(mismatches.slice(0, 20)).toEqual([]);

    // Still alive and serving.
    expect(ingress!.exitCode()).toBeNull();
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    expect((await fetch(`${base}/readyz`)).status).toBe(200);
    const final = textUpdate(999_999_999, 4242, `${MARKER} after the storm`);
    expect((await postUpdate(`${base}${PATH}`, final, SECRET)).status).toBe(200);

    // Stored: every acknowledged update exactly once, as sent; nothing else. An update is identified
    // by its chat (named by its pseudonym) and update_id (the redelivery marker's key), so a forged id
    // reused in another chat is another update; its job, keyed by update_id alone, is shared.
    const expected = new Map<string, unknown[]>(); // "<chat> <update_id>" → the forms it was sent in
    for (const g of generated) {
      if (g.verdict.status !== 200) continue;
      const update = g.verdict.update as TelegramUpdatePayload;
      const key = `${inbox.pseudonymOf(chatKeyOf(update))} ${update.update_id}`;
      expected.set(key, [...(expected.get(key) ?? []), storedForm(update)]);
    }
    expected.set(`${inbox.pseudonymOf(String(final.message.chat.id))} ${final.update_id}`, [final]);
    const stored = new Map<string, unknown[]>();
    let cursor = '0';
    do {
      const [nextCursor, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:chat:*:inbox`, 'COUNT', 1000);
      cursor = nextCursor;
      for (const key of keys) {
        const chat = /:chat:\{(.*)\}:inbox$/.exec(key)?.[1] ?? '';
        for (const entry of await inbox.peek(chat, 100_000)) {
          const id = `${chat} ${entry.updateId}`;
          stored.set(id, [...(stored.get(id) ?? []), entry.update]);
        }
      }
    } while (cursor !== '0');
    expect([...stored.keys()].sort()).toEqual([...expected.keys()].sort());
    const wrong: string[] = [];
    for (const [id, forms] of stored) {
      if (forms.length !== 1) wrong.push(`update ${id} stored ${forms.length} times`);
      // With copies racing, whichever came first is kept.
      else if (!expected.get(id)!.some((form) => isDeepStrictEqual(form, forms[0]))) wrong.push(`update ${id} stored differently from what was sent`);
    }
    expect(wrong.slice(0, 10)).toEqual([]);
    const queue = new Queue(QUEUE_NAMES.updates, { connection: redis, prefix });
    try {
      expect(await queue.getWaitingCount()).toBe(new Set([...expected.keys()].map((k) => k.split(' ')[1])).size);
    } finally {
      await queue.close();
    }

    // The logs: no secret, no message text, and no failed store.
    const logs = fs.readFileSync(ingress!.logFile, 'utf8');
    expect(logs.includes(SECRET)).toBe(false);
    expect(logs.includes(MARKER)).toBe(false);
    expect(logs).not.toMatch(/could not store update/);
  }, 180_000);
});
