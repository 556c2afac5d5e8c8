import { Redis } from 'ioredis';
import { Registry } from 'prom-client';
import { serviceUrls, uniquePrefix } from '@inner-talk/testkit';
import {
  ClusterMetricsWriter,
  readHistogram,
  readRecentHistogram,
  RECENT_KEY_TTL_SECONDS,
  recentSummaryName,
  registerClusterMetrics,
  type CounterSpec,
  type HistogramSpec,
} from './index';

const hist: HistogramSpec = {
  kind: 'histogram',
  name: 'test_wait_seconds',
  help: 'test',
  bucketsMs: [100, 200, 400],
  labelNames: ['kind'],
  recentQuantiles: [0.5, 0.95, 0.99],
};
const plain: HistogramSpec = { kind: 'histogram', name: 'test_plain_seconds', help: 'test', bucketsMs: [100], labelNames: [] };
const ctr: CounterSpec = { kind: 'counter', name: 'test_things_total', help: 'test', labelNames: [] };

const MINUTE = 60_000;
// A fixed "now" in the middle of a minute, so that offsets in whole minutes stay in their minute.
const NOW = 29_000_000 * MINUTE + 30_000;

function line(text: string, name: string): number | undefined {
  const found = text.split('\n').find((l) => l.startsWith(`${name} `));
  return found === undefined ? undefined : Number(found.slice(name.length + 1));
}

describe('recent-window quantiles through per-minute hashes', () => {
  let redis: Redis;
  let prefix: string;

  beforeAll(() => {
    redis = new Redis(serviceUrls().redisUrl);
  });
  beforeEach(() => {
    prefix = uniquePrefix('rq');
  });
  afterEach(async () => {
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length) await redis.del(...keys);
  });
  afterAll(() => redis.quit());

  const writerAt = (ms: number) => new ClusterMetricsWriter(redis, prefix, { now: () => ms });

  it('counts the current minute and the four before it, not older ones, and lets minute hashes expire', async () => {
    await writerAt(NOW).record([{ spec: hist, labels: { kind: 'a' }, valueMs: 150 }]);
    await writerAt(NOW - 4 * MINUTE).record([{ spec: hist, labels: { kind: 'a' }, valueMs: 50 }]);
    await writerAt(NOW - 5 * MINUTE).record([{ spec: hist, labels: { kind: 'a' }, valueMs: 300 }]);

    expect(await readRecentHistogram(redis, prefix, hist, NOW)).toEqual([{ labels: { kind: 'a' }, buckets: [1, 1, 0, 0], sumMs: 0, count: 2 }]);
    // The totals keep everything.
    expect(await readHistogram(redis, prefix, hist)).toEqual([{ labels: { kind: 'a' }, buckets: [1, 1, 1, 0], sumMs: 500, count: 3 }]);

    const minuteKeys = await redis.keys(`${prefix}:metrics:${hist.name}:m*`);
    expect(minuteKeys).toHaveLength(3);
    for (const key of minuteKeys) {
      const ttl = await redis.ttl(key);
      expect(ttl).toBeGreaterThan(RECENT_KEY_TTL_SECONDS - 10);
      expect(ttl).toBeLessThanOrEqual(RECENT_KEY_TTL_SECONDS);
    }
  });

  it('writes minute hashes only for histograms that ask for recent quantiles', async () => {
    await writerAt(NOW).record([{ spec: plain, valueMs: 5 }, { spec: ctr }]);
    expect(await redis.keys(`${prefix}:metrics:*:m*`)).toEqual([]);
    expect(await readHistogram(redis, prefix, plain)).toHaveLength(1);
  });

  it('exposes a summary: window quantiles interpolated like histogram_quantile, cumulative _sum and _count', async () => {
    // 10 recent observations: 5 in (0, 100] ms, 5 in (100, 200] ms; and one old 300 ms one.
    const recent = writerAt(NOW - MINUTE);
    for (let i = 0; i < 5; i++) await recent.record([{ spec: hist, labels: { kind: 'a' }, valueMs: 60 }, { spec: hist, labels: { kind: 'a' }, valueMs: 160 }]);
    await writerAt(NOW - 10 * MINUTE).record([{ spec: hist, labels: { kind: 'a' }, valueMs: 300 }]);
    // A label set seen only long ago: its quantiles are NaN, its totals still there.
    await writerAt(NOW - 10 * MINUTE).record([{ spec: hist, labels: { kind: 'old' }, valueMs: 50 }]);

    const registry = new Registry();
    registerClusterMetrics(registry, redis, prefix, [hist], { now: () => NOW });
    const text = await registry.metrics();
    const name = recentSummaryName(hist);
    expect(name).toBe('test_wait_recent_seconds');
    expect(text).toContain(`# TYPE ${name} summary`);
    // rank 5 of 10 ends the first bucket exactly; rank 9.5 is 4.5 of 5 into (0.1, 0.2].
    expect(line(text, `${name}{kind="a",quantile="0.5"}`)).toBeCloseTo(0.1, 12);
    expect(line(text, `${name}{kind="a",quantile="0.95"}`)).toBeCloseTo(0.19, 12);
    expect(line(text, `${name}{kind="a",quantile="0.99"}`)).toBeCloseTo(0.198, 12);
    expect(line(text, `${name}_sum{kind="a"}`)).toBeCloseTo(1.4, 12);
    expect(line(text, `${name}_count{kind="a"}`)).toBe(11);
    expect(line(text, `${name}{kind="old",quantile="0.5"}`)).toBeNaN();
    expect(line(text, `${name}_count{kind="old"}`)).toBe(1);
    // The histogram itself is unchanged.
    expect(line(text, `${hist.name}_count{kind="a"}`)).toBe(11);
    expect(line(text, `${hist.name}_bucket{kind="a",le="+Inf"}`)).toBe(11);
  });

  it('adds up minute hashes written by several writers exactly', async () => {
    const writers = [writerAt(NOW), new ClusterMetricsWriter(redis.duplicate(), prefix, { now: () => NOW })];
    await Promise.all(Array.from({ length: 40 }, (_, i) => writers[i % 2]!.record([{ spec: hist, labels: { kind: 'a' }, valueMs: i < 30 ? 90 : 390 }])));
    expect(await readRecentHistogram(redis, prefix, hist, NOW)).toEqual([{ labels: { kind: 'a' }, buckets: [30, 0, 10, 0], sumMs: 0, count: 40 }]);
    await (writers[1] as unknown as { redis: Redis }).redis.quit();
  });
});
