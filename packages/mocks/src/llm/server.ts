import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CONTROL_PREFIX, handleControl } from './control';
import type { ApiRoute, ParsedCall, ProviderDialect } from './dialect';
import { emptyCall } from './dialect';
import { apiKeyFingerprint } from './fingerprint';
import { BodyTooLargeError, parseJsonOrNull, readBody, send } from './http-util';
import { mockReplyText, mockUsage } from './reply';
import { MockState } from './state';
import type {
  MockFault,
  MockFaultSource,
  MockLlmConfig,
  MockOutcomeKind,
  MockProvider,
  MockQuotaScope,
  MockRequestRecord,
  MockStats,
} from './types';
import { parseConfigPatch, parseFaults } from './validate';

/** Options of startMockOpenAI / startMockGemini. */
export interface MockLlmOptions {
  /** TCP port; 0 (the default) picks a free one. */
  port?: number;
  /** Interface to bind; default 127.0.0.1 (never all interfaces unless asked). */
  host?: string;
  /** Initial config; see MockLlmConfig for defaults (no latency, 0 cached/reasoning tokens, seed 1). */
  config?: Partial<MockLlmConfig>;
  /** How many recent API requests the log keeps (default 100). */
  requestLogSize?: number;
}

/** A running mock server and its in-process controls (the same ones /__mock/ serves over HTTP). */
export interface MockLlmServer {
  readonly provider: MockProvider;
  /** Server origin, e.g. http://127.0.0.1:41234 (control routes live under /__mock/). */
  readonly url: string;
  /** What to pass as the official SDK's base URL (OpenAI: url + '/v1'; Gemini: url). */
  readonly sdkBaseUrl: string;
  readonly port: number;
  /** Stops the server, dropping open and hanging connections; resolves when it is down. Idempotent. */
  close(): Promise<void>;
  stats(): MockStats;
  /** The bounded log of recent API requests, oldest first (copies). */
  requests(): MockRequestRecord[];
  config(): MockLlmConfig;
  /**
   * Merges a validated patch into the config, effective from the next request; throws MockInputError on
   * bad input (e.g. rates summing above 1), leaving the config alone.
   */
  configure(patch: Partial<MockLlmConfig>): MockLlmConfig;
  /** Queues faults for the next requests; returns how many are pending. Throws MockInputError on bad input. */
  script(faults: MockFault | readonly MockFault[]): number;
  /** Turns every standing fault off (rates 0, not down, no quota exhausted) and drops pending scripted faults. */
  clearFaults(): MockLlmConfig;
  /** Clears counters, the log and pending faults and restarts the RNGs; keeps the config. */
  reset(): void;
}

type Decision =
  | { kind: 'reply'; status: number; body: unknown; headers: Record<string, string>; delayMs: number; fault: MockFaultSource | null }
  | { kind: 'hang'; delayMs: number; fault: MockFaultSource }
  | { kind: 'reset'; delayMs: number; fault: MockFaultSource };

function outcomeKind(decision: Decision): MockOutcomeKind {
  if (decision.kind === 'hang') return 'timeout';
  if (decision.kind === 'reset') return 'refused';
  if (decision.status === 429) return 'rate_limited';
  return decision.status < 400 ? 'ok' : 'error';
}

/** The retry headers of a retryable 429, as configured. */
function retryHeaders(config: MockLlmConfig): Record<string, string> {
  const ms = config.retryAfterMs;
  const which = config.retryAfterHeaders;
  return {
    ...(which === 'both' || which === 'seconds' ? { 'retry-after': String(Math.ceil(ms / 1000)) } : {}),
    ...(which === 'both' || which === 'ms' ? { 'retry-after-ms': String(ms) } : {}),
  };
}

const STATUS_TEXT: Record<number, string> = {
  400: 'Bad request.',
  401: 'Unauthorized.',
  403: 'Forbidden.',
  404: 'Not found.',
  429: 'Rate limit reached. Please try again later.',
  500: 'The server had an error while processing your request.',
  502: 'Bad gateway.',
  503: 'The service is currently overloaded.',
  504: 'Deadline exceeded.',
};

function promptText(call: ParsedCall): string {
  return [call.system ?? '', ...call.messages.map((m) => m.text)].join('\n');
}

class MockServerCore {
  private readonly waits = new Set<{ timer: NodeJS.Timeout; resolve: () => void }>();

  constructor(
    private readonly dialect: ProviderDialect,
    readonly state: MockState,
  ) {}

  /** Resolves after ms, or at once when the server closes (the caller then finds its response destroyed). */
  wait(ms: number): Promise<void> {
    if (ms <= 0) return Promise.resolve();
    return new Promise((resolve) => {
      const entry = {
        timer: setTimeout(() => {
          this.waits.delete(entry);
          resolve();
        }, ms),
        resolve,
      };
      this.waits.add(entry);
    });
  }

  cancelWaits(): void {
    for (const entry of this.waits) {
      clearTimeout(entry.timer);
      entry.resolve();
    }
    this.waits.clear();
  }

  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://mock.invalid');
    if (url.pathname.startsWith(CONTROL_PREFIX)) return handleControl(this.state, req, res, url.pathname);

    const seq = this.state.begin();
    res.once('close', () => this.state.end());
    let text: string;
    try {
      text = await readBody(req);
    } catch (err) {
      if (!(err instanceof BodyTooLargeError)) throw err;
      return send(res, 413, this.dialect.errorBody(413, err.message));
    }
    const body = parseJsonOrNull(text);
    const method = req.method ?? 'GET';
    const route = this.dialect.matchRoute(method, url);
    const call = route ? this.dialect.parse(body, route) : emptyCall('not found');
    const key = this.dialect.apiKey(req.headers, url);
    const decision = this.decide(route, call, key, seq, method, url.pathname);

    const record: MockRequestRecord = {
      seq,
      at: Date.now(),
      method,
      path: url.pathname,
      model: call.model ?? route?.model ?? null,
      apiKey: key === null ? null : apiKeyFingerprint(key),
      system: call.system,
      messages: call.messages,
      maxOutputTokens: call.maxOutputTokens,
      temperature: call.temperature,
      outcome: decision.kind === 'reply' ? decision.status : decision.kind,
      kind: outcomeKind(decision),
      scripted: decision.fault === 'script',
      fault: decision.fault,
      body,
    };
    this.state.record(record);
    await this.wait(decision.delayMs);
    // A hang holds no timer: the socket stays open until the client gives up or close() drops it.
    if (decision.kind === 'hang') return;
    if (decision.kind === 'reset') {
      res.socket?.destroy();
      return;
    }
    send(res, decision.status, decision.body, { 'x-request-id': `mock-${seq}`, ...decision.headers });
  }

  /** Precedence: unknown route, then a scripted fault, then standing faults, then the normal answer. */
  private decide(route: ApiRoute | null, call: ParsedCall, key: string | null, seq: number, method: string, path: string): Decision {
    if (route === null) {
      return this.reply(404, this.dialect.errorBody(404, `No route for ${method} ${path}.`), 0, null);
    }
    const fault = this.state.takeFault();
    if (fault !== undefined) return this.scripted(fault, call, key, seq);
    // Read once: a config change lands between requests, never halfway through deciding one.
    const config = this.state.getConfig();
    return this.standing(config, call) ?? this.normal(config, call, key, seq, this.state.sampleLatencyMs(), {}, null);
  }

  private scripted(fault: MockFault, call: ParsedCall, key: string | null, seq: number): Decision {
    const delayMs = fault.delayMs ?? 0;
    if (fault.hang) return { kind: 'hang', delayMs, fault: 'script' };
    if (fault.reset) return { kind: 'reset', delayMs, fault: 'script' };
    const headers = fault.headers ?? {};
    if (fault.body !== undefined) return this.reply(fault.status ?? 200, fault.body, delayMs, 'script', headers);
    if (fault.status === undefined || fault.status < 300) {
      // A scripted delay or a plain 2xx: answer as usual but with the fault's timing and headers.
      const normal = this.normal(this.state.getConfig(), call, key, seq, delayMs, headers, 'script');
      return normal.kind === 'reply' && fault.status !== undefined ? { ...normal, status: fault.status } : normal;
    }
    return this.reply(fault.status, this.errorBody(fault.status), delayMs, 'script', headers);
  }

  /** The standing fault that hits this request (see MockLlmConfig), or null for a normal answer. */
  private standing(config: MockLlmConfig, call: ParsedCall): Decision | null {
    if (config.down) {
      if (config.downMode === 'hang') return { kind: 'hang', delayMs: 0, fault: 'down' };
      if (config.downMode === 'refuse') return { kind: 'reset', delayMs: 0, fault: 'down' };
      return this.reply(config.errorStatus, this.errorBody(config.errorStatus), 0, 'down');
    }
    if (config.quotaExhausted !== false) return this.quota(config, call, config.quotaExhausted, 'quota');
    switch (this.state.drawRateFault()) {
      case 'timeoutRate':
        return { kind: 'hang', delayMs: 0, fault: 'timeoutRate' };
      case 'rateLimitRate':
        return this.quota(config, call, 'minute', 'rateLimitRate');
      case 'errorRate':
        return this.reply(config.errorStatus, this.errorBody(config.errorStatus), 0, 'errorRate');
      case null:
        return null;
    }
  }

  /** A quota 429; only the retryable per-minute one carries retry headers. */
  private quota(config: MockLlmConfig, call: ParsedCall, scope: MockQuotaScope, fault: MockFaultSource): Decision {
    const body = this.dialect.quotaBody(scope, { model: call.model, retryAfterMs: config.retryAfterMs });
    return this.reply(429, body, 0, fault, scope === 'minute' ? retryHeaders(config) : {});
  }

  private errorBody(status: number): unknown {
    const message = this.dialect.statusMessage(status) ?? STATUS_TEXT[status] ?? `Mock error ${status}.`;
    return this.dialect.errorBody(status, message);
  }

  private normal(
    config: MockLlmConfig,
    call: ParsedCall,
    key: string | null,
    seq: number,
    delayMs: number,
    headers: Record<string, string>,
    fault: MockFaultSource | null,
  ): Decision {
    if (key === null) {
      const e = this.dialect.missingKey();
      return this.reply(e.status, e.body, 0, fault, headers);
    }
    if (config.validApiKeys !== null && !config.validApiKeys.includes(key)) {
      const e = this.dialect.invalidKey();
      return this.reply(e.status, e.body, 0, fault, headers);
    }
    if (call.invalid !== null) return this.reply(400, this.dialect.errorBody(400, call.invalid), 0, fault, headers);
    const reply = mockReplyText(call.messages, call.system);
    const usage = mockUsage(promptText(call), reply, config.cachedTokens, config.reasoningTokens);
    return this.reply(200, this.dialect.successBody(call, reply, usage, seq, config), delayMs, fault, headers);
  }

  private reply(status: number, body: unknown, delayMs: number, fault: MockFaultSource | null, headers: Record<string, string> = {}): Decision {
    return { kind: 'reply', status, body, headers, delayMs, fault };
  }
}

/**
 * Starts a mock of the given dialect on host:port (port 0 = a free port). Resolves once it listens;
 * rejects if it cannot bind. The returned handle's close() must be called to free the port.
 */
export async function startMockServer(dialect: ProviderDialect, options: MockLlmOptions = {}): Promise<MockLlmServer> {
  const state = new MockState(dialect.provider, parseConfigPatch(options.config ?? {}), options.requestLogSize ?? 100);
  const core = new MockServerCore(dialect, state);
  const server = createServer((req, res) => {
    core.handle(req, res).catch((err: unknown) => {
      // A bug in the mock must not leave the client waiting; answer 500 in the provider's shape.
      send(res, 500, dialect.errorBody(500, err instanceof Error ? err.message : 'mock failure'));
    });
  });
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  let closing: Promise<void> | undefined;
  return {
    provider: dialect.provider,
    url,
    sdkBaseUrl: url + dialect.sdkBasePath,
    port,
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
        core.cancelWaits();
      });
      return closing;
    },
    stats: () => state.stats(),
    requests: () => state.requests(),
    config: () => state.getConfig(),
    configure: (patch) => state.configure(parseConfigPatch(patch)),
    script: (faults) => state.addFaults(parseFaults(faults)),
    clearFaults: () => state.clearFaults(),
    reset: () => state.reset(),
  };
}
