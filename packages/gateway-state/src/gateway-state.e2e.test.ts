/**
 * Multi-process evidence: several OS processes (src/fixtures/gateway-node.ts, driven over HTTP) share
 * one Redis. Measured numbers are printed at the end of each test.
 */
import { Redis } from 'ioredis';
import { freePort, serviceUrls, spawnApp, stopAll, uniquePrefix, waitFor, type AppProcess } from '@inner-talk/testkit';
import type { BreakerTransition } from './index';
import { startDedicatedRedis, type DedicatedRedis } from './fixtures/redis-server';

const FIXTURE = 'packages/gateway-state/src/fixtures/gateway-node.ts';

interface Node {
  app: AppProcess;
  base: string;
}

async function startNodes(count: number, env: Record<string, string>): Promise<Node[]> {
  return Promise.all(
    Array.from({ length: count }, async (_, i) => {
      const port = await freePort();
      const base = `http://127.0.0.1:${port}`;
      const app = await spawnApp({ name: `gw-node-${i}`, entry: FIXTURE, env: { ...env, PORT: String(port), NODE_NAME: `node-${i}` }, healthUrl: `${base}/healthz`, readyTimeoutMs: 30_000 });
      return { app, base };
    }),
  );
}

async function get<T>(node: Node, path: string, params: Record<string, string | number> = {}): Promise<T> {
  const query = new URLSearchParams(Object.entries(params).map(([k, v]): [string, string] => [k, String(v)]));
  const response = await fetch(`${node.base}${path}?${query}`, { signal: AbortSignal.timeout(30_000) });
  if (response.status !== 200) throw new Error(`${node.app.name} ${path}: ${response.status} ${await response.text()}`);
  return (await response.json()) as T;
}

type Timed<T> = T & { ms: number };
type AcquireAnswer = { decision: string; state: string; degraded: boolean; cached: boolean; event?: BreakerTransition };
type OutcomeAnswer = { state: string; degraded: boolean; event?: BreakerTransition };
type Received = BreakerTransition & { receivedAt: number };
type Grant = { t: number; est: number; actual: number };

const percentile = (values: number[], p: number): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
};

/** Largest count and token sum over every half-open window [t_i, t_i + windowUs) starting at a grant. */
function worstWindows(grants: Grant[], windowUs: number): { maxCount: number; maxTokens: number } {
  const sorted = [...grants].sort((a, b) => a.t - b.t);
  let maxCount = 0;
  let maxTokens = 0;
  let end = 0;
  let tokens = 0;
  for (let start = 0; start < sorted.length; start++) {
    while (end < sorted.length && sorted[end]!.t < sorted[start]!.t + windowUs) tokens += sorted[end++]!.actual;
    maxCount = Math.max(maxCount, end - start);
    maxTokens = Math.max(maxTokens, tokens);
    tokens -= sorted[start]!.actual;
  }
  return { maxCount, maxTokens };
}

afterAll(() => stopAll());

describe('gateway state shared by several processes', () => {
  const WINDOW_MS = 2_000;
  let nodes: Node[];
  let prefix: string;
  let redis: Redis;

  beforeAll(async () => {
    const { redisUrl } = serviceUrls();
    prefix = uniquePrefix('gw_e2e');
    redis = new Redis(redisUrl);
    nodes = await startNodes(4, { REDIS_URL: redisUrl, PREFIX: prefix, WINDOW_MS: String(WINDOW_MS), BREAKER_OPEN_MS: '400', BREAKER_LEASE_MS: '5000', BREAKER_THRESHOLD: '3' });
  });
  afterAll(async () => {
    await stopAll();
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length) await redis.del(...keys);
    await redis.quit();
  });

  const hammer = (scope: string, params: Record<string, number>) => {
    const at = Date.now() + 300;
    return Promise.all(nodes.slice(0, 3).map((node) => get<{ name: string; grants: Grant[]; refused: number; degraded: number }>(node, '/limiter/hammer', { scope, at, ...params })));
  };

  it('RPM: 3 processes hammering a scope never get more than R grants in any window', async () => {
    const R = 10;
    const results = await hammer('gemini|project-a|gemini-2.5-flash', { rpm: R, est: 0, concurrency: 4, callMs: 5, durationMs: 5_000 });
    const grants = results.flatMap((r) => r.grants);
    expect(results.every((r) => r.degraded === 0)).toBe(true);
    expect(results.every((r) => r.grants.length > 0)).toBe(true); // every process got a share
    const { maxCount } = worstWindows(grants, WINDOW_MS * 1000);
    console.log(`[e2e] RPM: R=${R}, window ${WINDOW_MS} ms, ${grants.length} grants (${results.map((r) => `${r.name}: ${r.grants.length}`).join(', ')}), ${results.reduce((n, r) => n + r.refused, 0)} refusals; max grants in any window = ${maxCount}`);
    expect(maxCount).toBe(R); // reached, never exceeded
    expect(grants.length).toBeGreaterThanOrEqual(2 * R);
  });

  it('TPM: with estimates off by up to ±10%, every window stays within 5% of the limit', async () => {
    const TPM = 5_000;
    const results = await hammer('openai|org-1|gpt-4o-mini', { rpm: 1_000, tpm: TPM, est: 100, err: 0.1, concurrency: 4, callMs: 20, durationMs: 5_000 });
    const grants = results.flatMap((r) => r.grants);
    expect(results.every((r) => r.degraded === 0)).toBe(true);
    const { maxTokens } = worstWindows(grants, WINDOW_MS * 1000);
    const deviation = maxTokens / TPM - 1;
    console.log(`[e2e] TPM: limit ${TPM}/window, ${grants.length} grants, max actual tokens in any window = ${maxTokens} (${(deviation * 100).toFixed(2)}% vs limit)`);
    expect(maxTokens).toBeLessThanOrEqual(TPM * 1.05);
    expect(maxTokens).toBeGreaterThanOrEqual(TPM * 0.9); // the limit was binding
  });

  it('breaker: every process learns of an opening within 100 ms, exactly one probe cluster-wide, and all see it close', async () => {
    const id = 'provider:gemini';
    const openingLags: number[] = [];
    const closingLags: number[] = [];
    const CYCLES = 5;
    for (let cycle = 0; cycle < CYCLES; cycle++) {
      const failer = nodes[cycle % nodes.length]!;
      const fail = await get<{ results: Array<Timed<OutcomeAnswer>> }>(failer, '/breaker/fail', { id, n: 3 });
      expect(fail.results.map((r) => r.state)).toEqual(['closed', 'closed', 'open']);
      const opened = fail.results[2]!.event!;
      expect(opened).toMatchObject({ from: 'closed', to: 'open', reason: 'consecutive_failures' });

      const seenOpen = await waitFor(
        async () => {
          const all = await Promise.all(nodes.map((n) => get<{ received: Received[] }>(n, '/events')));
          const hits = all.map((a) => a.received.find((e) => e.seq === opened.seq));
          return hits.every(Boolean) ? (hits as Received[]) : undefined;
        },
        { timeoutMs: 2_000, intervalMs: 20, message: 'every node to receive the opening' },
      );
      openingLags.push(...seenOpen.map((e) => e.receivedAt - opened.at));
      for (const node of nodes) expect((await get<{ view: { state: string } | null }>(node, '/breaker/view', { id })).view?.state).toBe('open');

      // After the open period, 4 processes × 15 concurrent acquirers race for the probe.
      const at = opened.openUntil + 30;
      const race = await Promise.all(nodes.map((n) => get<{ name: string; results: Array<Timed<AcquireAnswer>> }>(n, '/breaker/acquire', { id, n: 15, at })));
      const decisions = race.flatMap((r) => r.results.map((x) => ({ name: r.name, ...x })));
      const probes = decisions.filter((d) => d.decision === 'probe');
      expect(probes).toHaveLength(1);
      expect(decisions.filter((d) => d.decision === 'open')).toHaveLength(decisions.length - 1);

      const prober = nodes[Number(probes[0]!.name.replace('node-', ''))]!;
      const success = await get<{ result: OutcomeAnswer }>(prober, '/breaker/success', { id, probe: 1 });
      const closed = success.result.event!;
      expect(closed).toMatchObject({ from: 'half_open', to: 'closed', reason: 'probe_succeeded' });
      const seenClosed = await waitFor(
        async () => {
          const all = await Promise.all(nodes.map((n) => get<{ received: Received[] }>(n, '/events')));
          const hits = all.map((a) => a.received.find((e) => e.seq === closed.seq));
          return hits.every(Boolean) ? (hits as Received[]) : undefined;
        },
        { timeoutMs: 2_000, intervalMs: 20, message: 'every node to receive the closing' },
      );
      closingLags.push(...seenClosed.map((e) => e.receivedAt - closed.at));
      for (const node of nodes) {
        expect((await get<{ view: { state: string } | null }>(node, '/breaker/view', { id })).view?.state).toBe('closed');
        expect((await get<{ results: AcquireAnswer[] }>(node, '/breaker/acquire', { id })).results[0]!.decision).toBe('closed');
      }
    }
    console.log(
      `[e2e] breaker: ${CYCLES} open/probe/close cycles × ${nodes.length} processes; opening seen after p50 ${percentile(openingLags, 50)} ms, max ${Math.max(...openingLags)} ms; closing p50 ${percentile(closingLags, 50)} ms, max ${Math.max(...closingLags)} ms; exactly 1 probe of ${nodes.length * 15} concurrent acquires in each cycle`,
    );
    expect(Math.max(...openingLags)).toBeLessThanOrEqual(100);
    expect(Math.max(...closingLags)).toBeLessThanOrEqual(100);
  });
});

describe('gateway state when Redis goes away under several processes', () => {
  let server: DedicatedRedis;
  let nodes: Node[];

  beforeAll(async () => {
    server = await startDedicatedRedis();
    nodes = await startNodes(3, { REDIS_URL: server.url, PREFIX: uniquePrefix('gw_out'), WINDOW_MS: '60000', BREAKER_OPEN_MS: '30000', BREAKER_THRESHOLD: '3' });
  });
  afterAll(async () => {
    await stopAll();
    await server.stop();
  });

  it('hung, then dead Redis: calls return within 200 ms with degraded: true, local breakers open after N failures, and Redis state wins after a restart', async () => {
    const durations: number[] = [];
    for (const node of nodes) {
      const { results } = await get<{ results: Array<Timed<AcquireAnswer>> }>(node, '/breaker/acquire', { id: 'provider:openai' });
      expect(results[0]).toMatchObject({ decision: 'closed', degraded: false });
    }

    // Hung server: connections stay open, nothing answers; calls give up after the 75 ms timeout.
    server.pause();
    try {
      const hung = await Promise.all(nodes.map((n) => get<{ results: Array<Timed<AcquireAnswer>> }>(n, '/breaker/acquire', { id: 'provider:hung' })));
      for (const { results } of hung) {
        expect(results[0]).toMatchObject({ decision: 'closed', degraded: true });
        durations.push(results[0]!.ms);
      }
      const limited = await Promise.all(nodes.map((n) => get<{ result: Timed<{ ok: boolean; degraded: boolean }> }>(n, '/limiter/acquire', { scope: 's', rpm: 100 })));
      for (const { result } of limited) {
        expect(result).toMatchObject({ ok: true, degraded: true });
        durations.push(result.ms);
      }
    } finally {
      server.resume();
    }
    const hungMax = Math.max(...durations);

    // Dead server: connection refused; the local breakers take over with the same rules.
    await server.kill();
    const dead = await Promise.all(
      nodes.map(async (n) => {
        const before = await get<{ results: Array<Timed<AcquireAnswer>> }>(n, '/breaker/acquire', { id: 'provider:gemini' });
        const failures = await get<{ results: Array<Timed<OutcomeAnswer>> }>(n, '/breaker/fail', { id: 'provider:gemini', n: 3 });
        const after = await get<{ results: Array<Timed<AcquireAnswer>> }>(n, '/breaker/acquire', { id: 'provider:gemini' });
        const limit = await get<{ result: Timed<{ ok: boolean; degraded: boolean }> }>(n, '/limiter/acquire', { scope: 's', rpm: 100, tpm: 1_000, est: 10 });
        return { before: before.results[0]!, failures: failures.results, after: after.results[0]!, limit: limit.result };
      }),
    );
    const deadDurations: number[] = [];
    for (const d of dead) {
      expect(d.before).toMatchObject({ decision: 'closed', degraded: true });
      expect(d.failures.map((f) => [f.state, f.degraded])).toEqual([
        ['closed', true],
        ['closed', true],
        ['open', true],
      ]);
      expect(d.failures[2]!.event).toMatchObject({ to: 'open', reason: 'consecutive_failures', source: 'local' });
      expect(d.after).toMatchObject({ decision: 'open', degraded: true });
      expect(d.limit).toMatchObject({ ok: true, degraded: true });
      deadDurations.push(d.before.ms, ...d.failures.map((f) => f.ms), d.after.ms, d.limit.ms);
    }
    expect(hungMax).toBeLessThan(200);
    expect(Math.max(...deadDurations)).toBeLessThan(200);

    // Redis is back (empty): its state wins over the local "open" in every process.
    await server.restart();
    for (const node of nodes) {
      await waitFor(
        async () => {
          const { results } = await get<{ results: AcquireAnswer[] }>(node, '/breaker/acquire', { id: 'provider:gemini' });
          return !results[0]!.degraded && results[0]!.decision === 'closed';
        },
        { timeoutMs: 5_000, intervalMs: 50, message: `${node.app.name} to use Redis again` },
      );
    }
    console.log(
      `[e2e] outage: hung Redis → calls answered degraded after max ${hungMax.toFixed(1)} ms; dead Redis → max ${Math.max(...deadDurations).toFixed(1)} ms; local breakers opened after 3 failures in all ${nodes.length} processes; Redis state won after restart`,
    );
  });
});
