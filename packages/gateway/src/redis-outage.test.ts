/**
 * The gateway's shared state lives in Redis; when Redis hangs (SIGSTOP) or dies (SIGKILL) the model
 * calls must go on: every `complete()` answers, the gateway adds at most OVERHEAD_MS on top of the
 * provider's latency, and the breaker keeps working per process (opens after 3 failures). Uses a
 * redis-server of its own on a free port, so stopping it touches nothing else.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { startMockGemini, startMockOpenAI, type MockLlmServer } from '@inner-talk/mocks';
import type { BreakerTransition, RedisUnavailableError } from '@inner-talk/gateway-state';
import { freePort, uniquePrefix, waitFor } from '@inner-talk/testkit';
import { createGatewayState, LlmGateway, parseGatewayEnv, type CallRecord, type GatewayState } from './index';

/** Fixed latency of both mocks; overhead = a call's total time minus this. */
const LATENCY_MS = Number(process.env.XLAT ?? 300);
/** The claim: Redis being away costs a model call at most this much. */
const OVERHEAD_MS = 200;

const request = (text: string) => ({ system: 'be kind', turns: [{ role: 'user' as const, text }], timeoutMs: 10_000, maxOutputTokens: 100 });
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** A throwaway redis-server without persistence, on one port for its whole life (restartable). */
class DedicatedRedis {
  private child: ChildProcess | undefined;
  constructor(readonly port: number) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    const child = spawn('redis-server', ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--daemonize', 'no'], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    await new Promise<void>((resolve, reject) => {
      let output = '';
      const timer = setTimeout(() => reject(new Error(`redis-server on ${this.port} not ready within 5 s:\n${output}`)), 5_000);
      child.stdout?.on('data', (chunk: Buffer) => {
        output += chunk.toString();
        if (output.includes('Ready to accept connections')) {
          clearTimeout(timer);
          resolve();
        }
      });
      child.once('error', (error) => {
        clearTimeout(timer);
        reject(error);
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`redis-server on ${this.port} exited with ${code}:\n${output}`));
      });
    });
  }

  /** SIGSTOP: the connections stay open, nothing answers. */
  pause(): void {
    this.child?.kill('SIGSTOP');
  }

  resume(): void {
    this.child?.kill('SIGCONT');
  }

  /** SIGKILL (after SIGCONT, so a paused one dies at once) and wait for the exit. Idempotent. */
  async kill(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGCONT');
    child.kill('SIGKILL');
    await exited;
  }
}

interface Timed {
  provider: string;
  totalMs: number;
  overheadMs: number;
}

describe('LlmGateway while its Redis hangs or dies', () => {
  let gemini: MockLlmServer;
  let openai: MockLlmServer;
  let redis: DedicatedRedis | undefined;
  let state: GatewayState | undefined;
  let gateway: LlmGateway;
  let transitions: BreakerTransition[];
  let redisErrors: RedisUnavailableError[];
  let calls: CallRecord[];

  beforeAll(async () => {
    const latency = { kind: 'fixed', ms: LATENCY_MS } as const;
    gemini = await startMockGemini({ config: { latency } });
    openai = await startMockOpenAI({ config: { latency } });
  });
  afterAll(async () => {
    await gemini.close();
    await openai.close();
  });

  /** A fresh dedicated Redis, gateway state and gateway; `extra` adds LLM_* variables. */
  async function setup(extra: Record<string, string> = {}): Promise<void> {
    gemini.reset();
    gemini.clearFaults();
    openai.reset();
    redis = new DedicatedRedis(await freePort());
    await redis.start();
    const config = parseGatewayEnv({
      LLM_GEMINI_KEYS: 'proj-a:gk-1',
      LLM_GEMINI_BASE_URL: gemini.sdkBaseUrl,
      LLM_OPENAI_KEYS: 'ok-1',
      LLM_OPENAI_BASE_URL: openai.sdkBaseUrl,
      LLM_BREAKER_FAILURES: '3',
      LLM_BREAKER_OPEN_MS: '30000',
      LLM_BREAKER_ERROR_RATE: '0',
      ...extra,
    });
    transitions = [];
    redisErrors = [];
    calls = [];
    state = await createGatewayState({
      redisUrl: redis.url,
      prefix: uniquePrefix('gw_outage'),
      config,
      onTransition: (t) => transitions.push(t),
      onRedisError: (e) => redisErrors.push(e),
    });
    gateway = new LlmGateway({ config, ...state, observer: { onCall: (c) => calls.push(c) } });
  }

  afterEach(async () => {
    // The server is throwaway (no persistence): killing it removes every key this test wrote.
    await state?.close();
    state = undefined;
    await redis?.kill();
  });

  async function timedCall(text: string): Promise<Timed> {
    const started = performance.now();
    const result = await gateway.complete(request(text));
    const totalMs = performance.now() - started;
    expect(result.text).toBe(`Mock reply to: ${text}`);
    return { provider: result.provider, totalMs, overheadMs: totalMs - LATENCY_MS };
  }

  /** `loops` callers, each making calls one after another until `untilMs` (performance.now()). */
  async function load(loops: number, untilMs: number, label: string): Promise<Timed[]> {
    const done: Timed[] = [];
    await Promise.all(
      Array.from({ length: loops }, async (_, loop) => {
        for (let i = 0; performance.now() < untilMs; i++) done.push(await timedCall(`${label} ${loop}.${i}`));
      }),
    );
    return done;
  }

  const worst = (timed: readonly Timed[]) => Math.round(Math.max(...timed.map((t) => t.overheadMs)));

  it.each([
    ['hangs (SIGSTOP)', 'pause'],
    ['dies (SIGKILL)', 'kill'],
  ] as const)('Redis %s mid-run: every call answers within the latency + 200 ms, the breaker opens locally after 3 failures, and Redis state wins when it is back', async (_label, how) => {
    await setup();
    // Warm up: the SDK clients and the Redis scripts are loaded; Redis answers.
    await timedCall('warm-up 1');
    const healthy = await load(2, performance.now() + 600, 'redis up');
    expect(redisErrors).toHaveLength(0);

    // Two callers keep calling; Redis goes away while calls are in flight.
    const begin = performance.now();
    const running = load(2, begin + 2_400, 'redis away');
    await sleep(800);
    if (how === 'pause') redis!.pause();
    else await redis!.kill();
    const during = await running;
    expect(during.every((t) => t.provider === 'gemini')).toBe(true);
    expect(redisErrors.length).toBeGreaterThan(0); // the calls really were answered from local state
    const kinds = new Set(redisErrors.map((e) => e.kind));
    if (how === 'pause') expect(kinds.has('timeout')).toBe(true);
    else expect([...kinds].every((k) => k === 'connection' || k === 'not_connected')).toBe(true);

    // The primary fails: the per-process breaker opens after exactly 3 failures.
    gemini.configure({ down: true, downMode: 'error', errorStatus: 503 });
    const geminiBefore = gemini.stats().requests;
    const failing: Timed[] = [];
    for (let i = 1; i <= 3; i++) {
      failing.push(await timedCall(`primary failing ${i}`));
      expect(gemini.stats().requests - geminiBefore).toBe(i);
      expect(transitions.filter((t) => t.to === 'open')).toHaveLength(i < 3 ? 0 : 1);
    }
    expect(transitions).toEqual([expect.objectContaining({ id: 'provider:gemini', from: 'closed', to: 'open', reason: 'consecutive_failures', source: 'local' })]);
    // Open: straight to the fallback, the primary is not called.
    for (let i = 1; i <= 3; i++) failing.push(await timedCall(`primary open ${i}`));
    expect(gemini.stats().requests - geminiBefore).toBe(3);
    expect(failing.map((t) => t.provider)).toEqual(Array(6).fill('openai'));

    console.log(
      `[gateway] Redis ${how === 'pause' ? 'SIGSTOP' : 'SIGKILL'}: overhead per call (total − ${LATENCY_MS} ms mock latency) max ${worst(healthy)} ms with Redis up (n=${healthy.length}), ` +
        `max ${worst(during)} ms while it went away (n=${during.length}), max ${worst(failing)} ms through the local breaker (n=${failing.length}); ` +
        `${redisErrors.length} operations answered locally (${[...new Set(redisErrors.map((e) => e.kind))].join(', ')})`,
    );
    expect(worst(during)).toBeLessThanOrEqual(OVERHEAD_MS);
    expect(worst(failing)).toBeLessThanOrEqual(OVERHEAD_MS);

    // Redis is back: its state (closed; it never saw the local failures) wins over the local "open".
    gemini.clearFaults();
    if (how === 'pause') redis!.resume();
    else await redis!.start(); // a new, empty server on the same port
    await waitFor(async () => (await gateway.complete(request('redis back'))).provider === 'gemini', { timeoutMs: 5_000, intervalMs: 100, message: 'the primary used again once Redis is back' });
    expect(await state!.breaker.acquire('provider:gemini')).toMatchObject({ decision: 'closed', degraded: false });
    expect(calls.every((c) => c.provider === 'gemini' || c.provider === 'openai')).toBe(true);
  }, 30_000);
  // With limits a call touches the breaker, the cooldowns and the limiter (acquire and reconcile).
  // They share one RedisHealth, so only the calls in flight when Redis hangs wait for one timeout
  // (75 ms); later calls answer from local state at once while a background PING waits for Redis.
  it('with RPM/TPM limits configured, a hung Redis also costs a call at most 200 ms', async () => {
    await setup({ LLM_GEMINI_RPM: '1000', LLM_GEMINI_TPM: '1000000', LLM_OPENAI_RPM: '1000' });
    await timedCall('warm-up');
    const healthy = await load(2, performance.now() + 600, 'limited, redis up');
    expect(redisErrors).toHaveLength(0);

    // Two callers keep calling for 2.4 s (several probe intervals); Redis hangs while calls are in flight.
    const running = load(2, performance.now() + 2_400, 'limited, redis hung');
    await sleep(500);
    redis!.pause();
    const away = await running;
    expect(away.every((t) => t.provider === 'gemini')).toBe(true);
    expect(redisErrors.length).toBeGreaterThan(0);
    expect(redisErrors.every((e) => e.kind === 'timeout')).toBe(true);
    expect(state!.health.available).toBe(false);
    const sorted = away.map((t) => Math.round(t.overheadMs)).sort((a, b) => b - a);
    console.log(
      `[gateway] Redis SIGSTOP with RPM/TPM limits: overhead per call max ${worst(healthy)} ms with Redis up (n=${healthy.length}); while hung (n=${away.length}) the largest ${sorted.slice(0, 4).join(', ')} ms, median ${sorted[Math.floor(sorted.length / 2)]} ms; ` +
        `${redisErrors.length} operations answered locally`,
    );
    expect(worst(away)).toBeLessThanOrEqual(OVERHEAD_MS);

    // Redis answers again: a PING within the timeout brings every primitive back to Redis.
    redis!.resume();
    await waitFor(() => state!.health.available, { timeoutMs: 5_000, intervalMs: 20, message: 'the gateway state to use Redis again' });
    const back = await timedCall('limited, redis back');
    expect(back.provider).toBe('gemini');
    const errorsBefore = redisErrors.length;
    expect(await state!.limiter.tryAcquire('gemini|proj-a|gemini-2.5-flash', { rpm: 1000 })).toMatchObject({ ok: true, degraded: false });
    expect(redisErrors).toHaveLength(errorsBefore);
  }, 30_000);
});
