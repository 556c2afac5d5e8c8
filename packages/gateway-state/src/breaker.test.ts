import type { Redis } from 'ioredis';
import { serviceUrls, uniquePrefix, waitFor } from '@inner-talk/testkit';
import {
  BreakerWatcher,
  CircuitBreaker,
  breakerEventsChannel,
  breakerKeys,
  createGatewayRedis,
  GatewayStateConfigError,
  parseBreakerEvent,
  waitForRedis,
  type BreakerConfig,
  type BreakerTransition,
} from './index';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('CircuitBreaker (shared through Redis)', () => {
  let redis: Redis;
  let prefix: string;
  const extra: Redis[] = [];
  const watchers: BreakerWatcher[] = [];

  beforeAll(async () => {
    redis = createGatewayRedis(serviceUrls().redisUrl);
    expect(await waitForRedis(redis)).toBe(true);
  });
  beforeEach(() => {
    prefix = uniquePrefix('br');
  });
  afterEach(async () => {
    await Promise.all(watchers.splice(0).map((w) => w.close()));
    for (const r of extra.splice(0)) r.disconnect();
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length) await redis.del(...keys);
  });
  afterAll(() => redis.quit());

  const connections = async (n: number): Promise<Redis[]> => {
    const clients = Array.from({ length: n }, () => createGatewayRedis(serviceUrls().redisUrl));
    extra.push(...clients);
    await Promise.all(clients.map((c) => waitForRedis(c)));
    return clients;
  };
  const make = (config: BreakerConfig, events?: BreakerTransition[], client: Redis = redis) =>
    new CircuitBreaker({ redis: client, prefix, config, ...(events && { onTransition: (e: BreakerTransition) => events.push(e) }) });

  it('opens after N consecutive failures; a success in between resets the count', async () => {
    const events: BreakerTransition[] = [];
    const breaker = make({ failureThreshold: 3, errorRate: false, openMs: 10_000 }, events);
    await breaker.onFailure('p');
    await breaker.onFailure('p');
    expect(await breaker.onSuccess('p')).toEqual({ state: 'closed', degraded: false });
    await breaker.onFailure('p');
    expect(await breaker.onFailure('p')).toEqual({ state: 'closed', degraded: false });
    expect((await breaker.acquire('p')).decision).toBe('closed');
    const third = await breaker.onFailure('p');
    expect(third).toMatchObject({ state: 'open', degraded: false, event: { id: 'p', from: 'closed', to: 'open', reason: 'consecutive_failures', source: 'redis' } });
    expect(third.event!.openUntil - third.event!.at).toBe(10_000);
    expect(events).toEqual([third.event]);
    const denied = await breaker.acquire('p');
    expect(denied).toMatchObject({ decision: 'open', state: 'open', degraded: false });
    expect(denied.retryAfterMs).toBeGreaterThan(9_900);
    expect(denied.retryAfterMs).toBeLessThanOrEqual(10_000);
  });

  it('opens on the error-rate rule only once the window holds the minimum number of calls', async () => {
    const breaker = make({ failureThreshold: 100, errorRate: { threshold: 0.5, windowMs: 10_000, minCalls: 10 }, openMs: 10_000 });
    // 4 failures in 8 calls: rate 0.5 but below minCalls.
    for (let i = 0; i < 4; i++) {
      await breaker.onSuccess('r');
      expect((await breaker.onFailure('r')).state).toBe('closed');
    }
    await breaker.onSuccess('r'); // 9 calls, 4 failures
    const tenth = await breaker.onFailure('r'); // 10 calls, 5 failures: 0.5
    expect(tenth).toMatchObject({ state: 'open', event: { reason: 'error_rate', from: 'closed', to: 'open' } });
  });

  it('does not open on the error rate below the threshold', async () => {
    const breaker = make({ failureThreshold: 100, errorRate: { threshold: 0.5, windowMs: 10_000, minCalls: 4 }, openMs: 10_000 });
    for (let i = 0; i < 10; i++) {
      await breaker.onSuccess('r');
      await breaker.onSuccess('r');
      expect((await breaker.onFailure('r')).state).toBe('closed'); // 1/3 < 0.5
    }
  });

  it('grants exactly one half-open probe among many concurrent acquirers on many connections', async () => {
    const clients = await connections(12);
    const breakers = clients.map((c) => make({ failureThreshold: 1, errorRate: false, openMs: 200 }, undefined, c));
    await breakers[0]!.onFailure('g');
    const early = await Promise.all(breakers.map((b) => b.acquire('g')));
    expect(early.every((r) => r.decision === 'open')).toBe(true);
    await sleep(220);
    const results = await Promise.all(Array.from({ length: 60 }, (_, i) => breakers[i % breakers.length]!.acquire('g')));
    const probes = results.filter((r) => r.decision === 'probe');
    expect(probes).toHaveLength(1);
    expect(probes[0]!.event).toMatchObject({ from: 'open', to: 'half_open', reason: 'probe_granted' });
    expect(results.filter((r) => r.decision === 'open')).toHaveLength(59);
    expect(results.every((r) => r.state === 'half_open' && !r.degraded)).toBe(true);
  });

  it('hands the probe to another caller when the prober never reports within its lease', async () => {
    const breaker = make({ failureThreshold: 1, errorRate: false, openMs: 100, probeLeaseMs: 300 });
    await breaker.onFailure('l');
    await sleep(120);
    expect((await breaker.acquire('l')).decision).toBe('probe');
    const waiting = await breaker.acquire('l');
    expect(waiting.decision).toBe('open');
    expect(waiting.retryAfterMs).toBeGreaterThan(200);
    expect(waiting.retryAfterMs).toBeLessThanOrEqual(300);
    await sleep(waiting.retryAfterMs + 10);
    const second = await breaker.acquire('l');
    expect(second).toMatchObject({ decision: 'probe', state: 'half_open' });
    expect(second.event).toBeUndefined(); // still half-open: not a transition
    expect((await breaker.acquire('l')).decision).toBe('open');
  });

  it('takes the probe lease per acquire, so a probe can outlast a long call', async () => {
    const breaker = make({ failureThreshold: 1, errorRate: false, openMs: 100, probeLeaseMs: 300 });
    await breaker.onFailure('q');
    await sleep(120);
    const probe = await breaker.acquire('q', { probeLeaseMs: 2_000 });
    expect(probe).toMatchObject({ decision: 'probe', event: { reason: 'probe_granted' } });
    expect(probe.event!.leaseUntil - probe.event!.at).toBe(2_000);
    await sleep(350); // past the configured 300 ms: the probe still holds its lease
    const other = await breaker.acquire('q');
    expect(other).toMatchObject({ decision: 'open', state: 'half_open' });
    expect(other.retryAfterMs).toBeGreaterThan(1_400);
    await expect(breaker.acquire('q', { probeLeaseMs: 0 })).rejects.toThrow(GatewayStateConfigError);
    await expect(breaker.acquire('q', { probeLeaseMs: 48 * 3_600_000 })).rejects.toThrow(GatewayStateConfigError);
  });

  it('ignores outcomes of calls admitted before the last transition (the seq of their acquire)', async () => {
    const events: BreakerTransition[] = [];
    const breaker = make({ failureThreshold: 2, errorRate: false, openMs: 100 }, events);
    const early = await breaker.acquire('s'); // a call admitted in the first closed period
    expect(early).toMatchObject({ decision: 'closed', seq: 0 });
    await breaker.onFailure('s', { seq: early.seq });
    const opened = await breaker.onFailure('s', { seq: early.seq });
    expect(opened.event).toMatchObject({ to: 'open', seq: expect.any(Number) });
    // A late outcome of the early call while open or half-open changes nothing (as before).
    expect(await breaker.onSuccess('s', { seq: early.seq })).toEqual({ state: 'open', degraded: false, stale: true });
    await sleep(120);
    const probe = await breaker.acquire('s');
    expect(probe).toMatchObject({ decision: 'probe', seq: probe.event!.seq });
    const closed = await breaker.onSuccess('s', { probe: true, seq: probe.seq });
    expect(closed.event).toMatchObject({ from: 'half_open', to: 'closed' });
    const now = await breaker.acquire('s');
    expect(now.seq).toBe(closed.event!.seq);

    // The early call fails after the close: it says nothing about the new closed period.
    expect(await breaker.onFailure('s', { seq: early.seq })).toEqual({ state: 'closed', degraded: false, stale: true });
    expect(await breaker.onFailure('s', { seq: now.seq })).toEqual({ state: 'closed', degraded: false });
    // Nor does a late success of it reset the new period's consecutive failures.
    expect(await breaker.onSuccess('s', { seq: early.seq })).toEqual({ state: 'closed', degraded: false, stale: true });
    expect(await breaker.onFailure('s', { seq: now.seq })).toMatchObject({ state: 'open', event: { reason: 'consecutive_failures' } });
    expect(events.map((e) => e.to)).toEqual(['open', 'half_open', 'closed', 'open']);
    // Without a seq an outcome always counts (callers that do not track it).
    expect(await breaker.onFailure('t')).toEqual({ state: 'closed', degraded: false });
    // A breaker whose state is gone (expired, or Redis lost it) has no history: every outcome counts.
    const fresh = await breaker.acquire('u');
    await redis.del(...breakerKeys(prefix, 'u'));
    expect(await breaker.onFailure('u', { seq: now.seq })).toEqual({ state: 'closed', degraded: false });
    expect(await breaker.onFailure('u', { seq: fresh.seq })).toMatchObject({ state: 'open' });
  });

  it('closes after a successful probe and resets the counters', async () => {
    const events: BreakerTransition[] = [];
    const breaker = make({ failureThreshold: 2, errorRate: false, openMs: 100 }, events);
    await breaker.onFailure('c');
    await breaker.onFailure('c');
    await sleep(120);
    expect((await breaker.acquire('c')).decision).toBe('probe');
    // Outcomes of calls that are not the probe do not decide anything while half-open.
    expect(await breaker.onSuccess('c')).toEqual({ state: 'half_open', degraded: false });
    expect(await breaker.onFailure('c')).toEqual({ state: 'half_open', degraded: false });
    const closed = await breaker.onSuccess('c', { probe: true });
    expect(closed).toMatchObject({ state: 'closed', event: { from: 'half_open', to: 'closed', reason: 'probe_succeeded', openUntil: 0 } });
    expect(events.map((e) => `${e.from}>${e.to}:${e.reason}`)).toEqual(['closed>open:consecutive_failures', 'open>half_open:probe_granted', 'half_open>closed:probe_succeeded']);
    expect(events.map((e) => e.seq)).toEqual([...events.map((e) => e.seq)].sort((a, b) => a - b));
    expect((await breaker.acquire('c')).decision).toBe('closed');
    // Consecutive count starts from zero again.
    expect((await breaker.onFailure('c')).state).toBe('closed');
    expect((await breaker.onFailure('c')).state).toBe('open');
  });

  it('re-opens after a failed probe with a backed-off open period', async () => {
    const breaker = make({ failureThreshold: 1, errorRate: false, openMs: 100, backoffMultiplier: 3, maxOpenMs: 500 });
    await breaker.onFailure('b');
    await sleep(120);
    expect((await breaker.acquire('b')).decision).toBe('probe');
    const reopened = await breaker.onFailure('b', { probe: true });
    expect(reopened).toMatchObject({ state: 'open', event: { from: 'half_open', to: 'open', reason: 'probe_failed' } });
    expect(reopened.event!.openUntil - reopened.event!.at).toBe(300); // 100 × 3¹
    await sleep(320);
    expect((await breaker.acquire('b')).decision).toBe('probe');
    const again = await breaker.onFailure('b', { probe: true });
    expect(again.event!.openUntil - again.event!.at).toBe(500); // 100 × 3² = 900, capped at 500
  });

  it('never shortens an open period: not by re-opening, not by a shorter forceOpen', async () => {
    const breaker = make({ failureThreshold: 1, errorRate: false, openMs: 100 });
    const forced = await breaker.forceOpen('f', 5_000);
    expect(forced.event).toMatchObject({ from: 'closed', to: 'open', reason: 'forced' });
    const until = forced.event!.openUntil;
    expect(await breaker.forceOpen('f', 1_000)).toEqual({ state: 'open', degraded: false });
    // Late failures of calls started before the opening neither re-open nor shorten it.
    expect(await breaker.onFailure('f')).toEqual({ state: 'open', degraded: false });
    expect(Number(await redis.hget(breakerKeys(prefix, 'f')[0], 'until'))).toBe(until);
    await sleep(150); // past what openMs alone would give
    expect((await breaker.acquire('f')).decision).toBe('open');
    await breaker.forceOpen('f', 8_000);
    expect(Number(await redis.hget(breakerKeys(prefix, 'f')[0], 'until'))).toBeGreaterThan(until);
  });

  it('a probe failure re-opens for at least what an earlier forceOpen asked for', async () => {
    const breaker = make({ failureThreshold: 1, errorRate: false, openMs: 100, backoffMultiplier: 1 });
    await breaker.onFailure('m');
    await sleep(120);
    expect((await breaker.acquire('m')).decision).toBe('probe');
    const forced = await breaker.forceOpen('m', 3_000); // half_open -> open for 3 s
    expect(forced.event).toMatchObject({ from: 'half_open', to: 'open', reason: 'forced', leaseUntil: 0 });
    // The (stale) prober reports failure after the breaker was forced open: ignored, period kept.
    expect(await breaker.onFailure('m', { probe: true })).toEqual({ state: 'open', degraded: false });
    expect(Number(await redis.hget(breakerKeys(prefix, 'm')[0], 'until'))).toBe(forced.event!.openUntil);
  });

  it('keeps the open end a maximum inside the script even if the stored state already carries a later one', async () => {
    // Unreachable through the public API (open-state outcomes are ignored and forceOpen is a max),
    // so plant the state directly: the invariant must hold in the script itself.
    const breaker = make({ failureThreshold: 1, errorRate: false, openMs: 100 });
    const [stateKey] = breakerKeys(prefix, 'x');
    const [s] = await redis.time();
    const later = Number(s) * 1000 + 60_000;
    await redis.hset(stateKey, 'st', 'closed', 'until', later);
    const opened = await breaker.onFailure('x');
    expect(opened.event).toMatchObject({ to: 'open', openUntil: later });
  });

  it('publishes every transition on <prefix>:breaker:events from inside the script', async () => {
    const subscriber = redis.duplicate({ enableOfflineQueue: true });
    extra.push(subscriber);
    const messages: string[] = [];
    subscriber.on('message', (_channel: string, message: string) => messages.push(message));
    await subscriber.subscribe(breakerEventsChannel(prefix));
    const returned: BreakerTransition[] = [];
    const breaker = make({ failureThreshold: 1, errorRate: false, openMs: 50 }, returned);
    await breaker.onFailure('e');
    await sleep(60);
    await breaker.acquire('e');
    await breaker.onSuccess('e', { probe: true });
    await waitFor(() => messages.length === 3);
    expect(messages.map((m) => parseBreakerEvent(m))).toEqual(returned);
    expect(returned.map((e) => e.to)).toEqual(['open', 'half_open', 'closed']);
  });

  it('rejects rules that cannot work', () => {
    expect(() => make({ failureThreshold: 0 })).toThrow(GatewayStateConfigError);
    expect(() => make({ errorRate: { threshold: 1.5, windowMs: 1_000, minCalls: 1 } })).toThrow(GatewayStateConfigError);
    expect(() => make({ openMs: 1_000, maxOpenMs: 500 })).toThrow(GatewayStateConfigError);
    expect(() => make({ maxOpenMs: 10_000, probeLeaseMs: 1_000, stateTtlMs: 5_000 })).toThrow(GatewayStateConfigError);
  });

  describe('with a BreakerWatcher', () => {
    it('learns transitions made by another process through pub/sub and answers acquire from memory', async () => {
      const [other] = await connections(1);
      const watcher = new BreakerWatcher({ redis, prefix, cacheTtlMs: 1_000 });
      watchers.push(watcher);
      expect(await watcher.start()).toBe(true);
      const seen: Array<{ event: BreakerTransition; lag: number }> = [];
      watcher.onEvent((event, receivedAt) => seen.push({ event, lag: receivedAt - event.at }));
      const mine = new CircuitBreaker({ redis, prefix, watcher, config: { failureThreshold: 2, errorRate: false, openMs: 300 } });
      const theirs = make({ failureThreshold: 2, errorRate: false, openMs: 300 }, undefined, other);

      expect(await mine.acquire('w')).toMatchObject({ decision: 'closed', cached: false });
      expect(await mine.acquire('w')).toMatchObject({ decision: 'closed', cached: true });
      await theirs.onFailure('w');
      await theirs.onFailure('w');
      await waitFor(() => watcher.state('w')?.state === 'open', { timeoutMs: 1_000, intervalMs: 2 });
      expect(seen[0]!.lag).toBeLessThan(100);
      const denied = await mine.acquire('w');
      expect(denied).toMatchObject({ decision: 'open', cached: true });
      expect(denied.retryAfterMs).toBeGreaterThan(150);
      // Past the open period the cache cannot know who probes: it asks Redis.
      await sleep(denied.retryAfterMs + 5);
      const probe = await mine.acquire('w');
      expect(probe).toMatchObject({ decision: 'probe', cached: false });
      expect(await theirs.acquire('w')).toMatchObject({ decision: 'open', state: 'half_open' });
      await mine.onSuccess('w', { probe: true });
      await waitFor(() => seen.some((s) => s.event.to === 'closed'), { timeoutMs: 1_000, intervalMs: 2 });
      expect(watcher.state('w')?.state).toBe('closed');
    });

    it('stops trusting its cache after cacheTtlMs (the backstop for a missed message)', async () => {
      const watcher = new BreakerWatcher({ redis, prefix, cacheTtlMs: 100 });
      watchers.push(watcher);
      await watcher.start();
      const breaker = new CircuitBreaker({ redis, prefix, watcher, config: { failureThreshold: 1, errorRate: false } });
      expect((await breaker.acquire('t')).cached).toBe(false);
      expect((await breaker.acquire('t')).cached).toBe(true);
      // Simulate a transition whose message was lost: change Redis without publishing.
      await redis.hset(breakerKeys(prefix, 't')[0], 'st', 'open', 'until', Date.now() + 60_000, 'seq', 1);
      expect(await breaker.acquire('t')).toMatchObject({ decision: 'closed', cached: true });
      await sleep(110);
      expect(await breaker.acquire('t')).toMatchObject({ decision: 'open', cached: false });
      expect(watcher.state('t')?.state).toBe('open');
    });

    it('ignores news older than what it knows', () => {
      const watcher = new BreakerWatcher({ redis, prefix });
      watchers.push(watcher);
      watcher.observe('o', { state: 'open', openUntil: 5, leaseUntil: 0, seq: 10, observedAt: 1 });
      watcher.observe('o', { state: 'closed', openUntil: 0, leaseUntil: 0, seq: 9, observedAt: 2 });
      expect(watcher.lastKnown('o')).toMatchObject({ state: 'open', seq: 10 });
    });
  });
});
