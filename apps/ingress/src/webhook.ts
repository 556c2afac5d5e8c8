import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { telegramUpdateSchema, UnstorableUpdateError, type TelegramUpdatePayload } from '@inner-talk/queue';
import type { Logger } from '@inner-talk/telemetry';

export interface WebhookOptions {
  path: string;
  secret: string;
  maxBodyBytes: number;
  /**
   * Bytes of a refused body read and dropped before the connection is closed (default: 4 × maxBodyBytes,
   * at least 16 MiB). Closing is for abuse only: a client that pooled the connection for its next
   * request sees that request fail.
   */
  discardLimitBytes?: number;
  /** Must resolve only once the update is stored; rejects when it could not be. */
  accept(update: TelegramUpdatePayload): Promise<void>;
  logger: Logger;
}

class BodyTooLarge extends Error {
  override readonly name = 'BodyTooLarge';
}

/**
 * Telegram's webhook endpoint. We use our own small handler rather than grammY's
 * `webhookCallback` because the answer must follow storage, not the bot: 200 only after Redis has
 * the update, 503 while it cannot be stored (Telegram then redelivers), 401 on a wrong secret,
 * 413 on an oversized body, 400 on a body that is not an update — and never a hung request.
 */
export function createWebhookHandler(options: WebhookOptions): (req: IncomingMessage, res: ServerResponse) => boolean {
  const expected = Buffer.from(options.secret);
  const discardLimit = options.discardLimitBytes ?? Math.max(4 * options.maxBodyBytes, DEFAULT_DISCARD_LIMIT_BYTES);
  const secretMatches = (given: string | string[] | undefined) => {
    if (typeof given !== 'string') return false;
    const buf = Buffer.from(given);
    return buf.length === expected.length && timingSafeEqual(buf, expected);
  };
  const reply = (res: ServerResponse, status: number, error?: string) => {
    if (res.headersSent) return;
    res.writeHead(status, { 'content-type': 'application/json', connection: 'keep-alive' });
    res.end(error ? JSON.stringify({ ok: false, error }) : '{"ok":true}');
  };

  return (req, res) => {
    if ((req.url ?? '').split('?')[0] !== options.path) return false;
    if (req.method !== 'POST') {
      reply(res, 405, 'method not allowed');
      return true;
    }
    if (!secretMatches(req.headers['x-telegram-bot-api-secret-token'])) {
      options.logger.warn('webhook call with a missing or wrong secret token');
      reply(res, 401, 'unauthorized');
      discard(req, discardLimit);
      return true;
    }
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > options.maxBodyBytes) {
      reply(res, 413, 'body too large');
      discard(req, discardLimit);
      return true;
    }
    void (async () => {
      let body: Buffer;
      try {
        body = await readBody(req, options.maxBodyBytes);
      } catch (error) {
        reply(res, error instanceof BodyTooLarge ? 413 : 400, error instanceof BodyTooLarge ? 'body too large' : 'unreadable body');
        if (error instanceof BodyTooLarge) discard(req, discardLimit);
        return;
      }
      let json: unknown;
      try {
        json = JSON.parse(body.toString('utf8'));
      } catch {
        reply(res, 400, 'body is not JSON');
        return;
      }
      const parsed = telegramUpdateSchema.safeParse(json);
      if (!parsed.success) {
        reply(res, 400, 'body is not a Telegram update');
        return;
      }
      try {
        await options.accept(parsed.data);
        reply(res, 200);
      } catch (error) {
        if (error instanceof UnstorableUpdateError) {
          options.logger.warn({ updateId: parsed.data.update_id }, 'update cannot be stored (nested too deeply); rejected');
          reply(res, 400, 'body is not a storable Telegram update');
          return;
        }
        options.logger.error({ updateId: parsed.data.update_id, err: { name: error instanceof Error ? error.name : typeof error } }, 'could not store update; Telegram will redeliver');
        reply(res, 503, 'temporarily unavailable');
      }
    })();
    return true;
  };
}

/**
 * Reads and drops the rest of a refused request: cutting the connection while a client still
 * uploads makes it see a reset instead of our answer. Past `limitBytes` we stop reading and end our
 * side (the answer is already on its way, so the client reads it, then the end), and close the
 * connection a moment later: a refused client cannot keep us reading for the whole request timeout.
 */
function discard(req: IncomingMessage, limitBytes: number): void {
  let dropped = 0;
  const onData = (chunk: Buffer) => {
    dropped += chunk.length;
    if (dropped <= limitBytes) return;
    req.off('data', onData);
    req.pause();
    const socket = req.socket;
    socket.end();
    const closer = setTimeout(() => socket.destroy(), DISCARD_CLOSE_GRACE_MS).unref();
    socket.once('close', () => clearTimeout(closer));
  };
  req.on('data', onData);
  req.resume();
}

const DEFAULT_DISCARD_LIMIT_BYTES = 16 * 1024 * 1024;

/** How long a refused client that keeps uploading has to read our answer before its connection closes. */
const DISCARD_CLOSE_GRACE_MS = 1_000;

function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        req.removeAllListeners('data');
        reject(new BodyTooLarge());
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}
