/**
 * Exact LLM time per request, for "our overhead = end-to-end − LLM time".
 *
 * A thin HTTP front stands where the provider's edge would be: the system under test calls the
 * front, the front passes the request to the mock LLM server (packages/mocks, configured without
 * latency: it builds the provider's real response shape), holds the answer for a latency drawn
 * from a log-normal distribution, and answers. The front records, per request, when it arrived and
 * when its answer was sent, with the prompt's last user turn (which carries the message's token).
 * So the model time of every message is known exactly, whatever the system does around it, and
 * the classifier call of the safety check can get its own (shorter) distribution: a one-word
 * answer is faster than a reply, and a 1 s-median tail would push it past its 5 s timeout.
 */
import { Agent, createServer, request, type IncomingHttpHeaders, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { MockLlmServer } from '@inner-talk/mocks';

export type LlmCallKind = 'classifier' | 'reply';

/** One request as the front saw it. */
export interface LlmCall {
  provider: string;
  kind: LlmCallKind;
  /** The last user turn of the prompt: what the reply quotes, and where the message's token is. */
  lastUserText: string;
  /** Arrival at the front (epoch ms, this process's clock). */
  at: number;
  /** From arrival to the answer's last byte written: the time the system waited on "the provider". */
  delayMs: number | null;
  ok: boolean;
}

export interface LlmFrontOptions {
  upstream: MockLlmServer;
  /** Whether a system prompt is the safety classifier's. */
  isClassifier(system: string | null): boolean;
  /** A latency sample (ms) for a call of this kind. */
  latencyMs(kind: LlmCallKind): number;
}

export interface LlmFront {
  readonly provider: string;
  /** What to give the SDK as its base URL (the mock's, with the front's origin). */
  readonly sdkBaseUrl: string;
  /** Every call so far, in order of completion (live array; read only). */
  calls(): readonly LlmCall[];
  close(): Promise<void>;
}

type Json = Record<string, unknown>;
const isRecord = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

function textOf(content: unknown): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) return content.map((p) => (isRecord(p) && typeof p.text === 'string' ? p.text : '')).join('');
  if (isRecord(content) && Array.isArray(content.parts)) return textOf(content.parts);
  return '';
}

/** System prompt and last user turn of a Gemini generateContent or OpenAI chat.completions body. */
export function promptOf(body: unknown): { system: string | null; lastUser: string } {
  if (!isRecord(body)) return { system: null, lastUser: '' };
  if (Array.isArray(body.contents)) {
    const users = body.contents.filter((c) => isRecord(c) && (c.role === undefined || c.role === 'user'));
    return { system: body.systemInstruction === undefined ? null : textOf(body.systemInstruction), lastUser: textOf(users[users.length - 1]) };
  }
  if (Array.isArray(body.messages)) {
    const messages = body.messages.filter(isRecord);
    const system = messages.filter((m) => m.role === 'system' || m.role === 'developer').map((m) => textOf(m.content));
    const users = messages.filter((m) => m.role === 'user');
    return { system: system.length ? system.join('\n') : null, lastUser: textOf(users[users.length - 1]?.content) };
  }
  return { system: null, lastUser: '' };
}

const HOP_BY_HOP = new Set(['host', 'connection', 'content-length', 'transfer-encoding', 'keep-alive']);

function forwardHeaders(headers: IncomingHttpHeaders): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(headers)) if (v !== undefined && !HOP_BY_HOP.has(k)) out[k] = v;
  return out;
}

function readAll(stream: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.once('end', () => resolve(Buffer.concat(chunks)));
    stream.once('error', reject);
  });
}

/** Starts a front for one mock on 127.0.0.1. */
export async function startLlmFront(options: LlmFrontOptions): Promise<LlmFront> {
  const upstream = new URL(options.upstream.url);
  const agent = new Agent({ keepAlive: true, maxSockets: Infinity });
  const calls: LlmCall[] = [];
  const timers = new Set<NodeJS.Timeout>();

  const server: Server = createServer((req, res) => {
    const at = Date.now();
    void (async () => {
      const body = await readAll(req);
      let parsed: unknown = null;
      try {
        parsed = JSON.parse(body.toString('utf8'));
      } catch {
        // the mock answers a bad body with the provider's 400
      }
      const prompt = promptOf(parsed);
      const kind: LlmCallKind = options.isClassifier(prompt.system) ? 'classifier' : 'reply';
      const hold = new Promise<void>((resolve) => {
        const t = setTimeout(() => {
          timers.delete(t);
          resolve();
        }, options.latencyMs(kind));
        timers.add(t);
      });
      const answer = new Promise<{ status: number; headers: IncomingHttpHeaders; body: Buffer }>((resolve, reject) => {
        const up = request(
          { host: upstream.hostname, port: upstream.port, path: req.url, method: req.method, agent, headers: { ...forwardHeaders(req.headers), 'content-length': body.length } },
          (r) => void readAll(r).then((b) => resolve({ status: r.statusCode ?? 502, headers: r.headers, body: b }), reject),
        );
        up.once('error', reject);
        up.end(body);
      });
      const [a] = await Promise.all([answer, hold]);
      res.writeHead(a.status, { ...forwardHeaders(a.headers), 'content-length': a.body.length });
      res.end(a.body, () => calls.push({ provider: options.upstream.provider, kind, lastUserText: prompt.lastUser, at, delayMs: Date.now() - at, ok: a.status < 400 }));
    })().catch(() => {
      if (!res.headersSent) res.writeHead(502).end();
      else res.destroy();
    });
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    provider: options.upstream.provider,
    sdkBaseUrl: origin + options.upstream.sdkBaseUrl.slice(options.upstream.url.length),
    calls: () => calls,
    close: () =>
      new Promise<void>((resolve) => {
        for (const t of timers) clearTimeout(t);
        server.close(() => resolve());
        server.closeAllConnections();
        agent.destroy();
      }),
  };
}

/**
 * Length of the union of [start, end) intervals: the time a message spent waiting on the model when
 * its calls ran one after another (classifier, then reply) or overlapped (hedged/parallel calls).
 */
export function unionLength(intervals: ReadonlyArray<readonly [number, number]>): number {
  const sorted = [...intervals].filter(([a, b]) => b > a).sort((x, y) => x[0] - y[0]);
  let total = 0;
  let curStart = -Infinity;
  let curEnd = -Infinity;
  for (const [a, b] of sorted) {
    if (a > curEnd) {
      if (curEnd > curStart) total += curEnd - curStart;
      curStart = a;
      curEnd = b;
    } else if (b > curEnd) {
      curEnd = b;
    }
  }
  if (curEnd > curStart) total += curEnd - curStart;
  return total;
}
