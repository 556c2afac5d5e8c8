import { Redis } from 'ioredis';
import { Registry } from 'prom-client';
import { serviceUrls, uniquePrefix } from '@inner-talk/testkit';
import { bucketIndex, ClusterMetricsWriter, readHistogram, registerClusterMetrics, type CounterSpec, type HistogramSpec } from './index';

const hist: HistogramSpec = { kind: 'histogram', name: 'test_latency_seconds', help: 'test', bucketsMs: [10, 100, 1000], labelNames: ['kind'] };
const ctr: CounterSpec = { kind: 'counter', name: 'test_events_total', help: 'test', labelNames: ['outcome'] };

describe('cluster metrics through Redis', () => {
  let redis: Redis;
  let prefix: string;

  beforeAll(() => {
    redis = new Redis(serviceUrls().redisUrl);
  });
  beforeEach(() => {
    prefix = uniquePrefix('cm');
  });
  afterEach(async () => {
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length) await redis.del(...keys);
  });
  afterAll(() => redis.quit());

  it('places values in the first bucket whose bound is not below them', () => {
    expect(bucketIndex([10, 100], 0)).toBe(0);
    expect(bucketIndex([10, 100], 10)).toBe(0);
    expect(bucketIndex([10, 100], 10.5)).toBe(1);
    expect(bucketIndex([10, 100], 101)).toBe(2);
  });

  it('adds observations from several writers exactly', async () => {
    const writers = [new ClusterMetricsWriter(redis, prefix), new ClusterMetricsWriter(redis.duplicate(), prefix)];
    const values = [5, 50, 500, 5000, 7, 70];
    await Promise.all(values.map((v, i) => writers[i % 2]!.record([{ spec: hist, labels: { kind: 'a' }, valueMs: v }, { spec: ctr, labels: { outcome: 'ok' } }])));
    const [series] = await readHistogram(redis, prefix, hist);
    expect(series).toEqual({ labels: { kind: 'a' }, buckets: [2, 2, 1, 1], sumMs: 5632, count: 6 });
    await (writers[1] as unknown as { redis: Redis }).redis.quit();
  });

  it('exposes cumulative Prometheus histograms and counters through prom-client', async () => {
    const writer = new ClusterMetricsWriter(redis, prefix);
    await writer.record([
      { spec: hist, labels: { kind: 'a' }, valueMs: 5 },
      { spec: hist, labels: { kind: 'a' }, valueMs: 250 },
      { spec: hist, labels: { kind: 'b' }, valueMs: 2500 },
      { spec: ctr, labels: { outcome: 'ok' }, by: 3 },
    ]);
    const registry = new Registry();
    registerClusterMetrics(registry, redis, prefix, [hist, ctr]);
    const text = await registry.metrics();
    expect(text).toContain('# TYPE test_latency_seconds histogram');
    expect(text).toContain('test_latency_seconds_bucket{kind="a",le="0.01"} 1');
    expect(text).toContain('test_latency_seconds_bucket{kind="a",le="0.1"} 1');
    expect(text).toContain('test_latency_seconds_bucket{kind="a",le="1"} 2');
    expect(text).toContain('test_latency_seconds_bucket{kind="a",le="+Inf"} 2');
    expect(text).toContain('test_latency_seconds_sum{kind="a"} 0.255');
    expect(text).toContain('test_latency_seconds_count{kind="b"} 1');
    expect(text).toContain('test_events_total{outcome="ok"} 3');
  });
});
