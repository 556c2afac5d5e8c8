import { Redis } from 'ioredis';
import { serviceUrls, uniquePrefix, waitFor } from '@inner-talk/testkit';
import { BufferedMetrics, ClusterMetricsWriter, readCounter, readHistogram, type CounterSpec, type HistogramSpec, type MetricSample } from './index';

const hist: HistogramSpec = { kind: 'histogram', name: 'test_latency_seconds', help: 'test', bucketsMs: [10, 100, 1000], labelNames: ['kind'], recentQuantiles: [0.5] };
const ctr: CounterSpec = { kind: 'counter', name: 'test_events_total', help: 'test', labelNames: ['outcome'] };

/** A writer that counts its round trips (MULTIs) and can be made to fail. */
class CountingWriter extends ClusterMetricsWriter {
  writes: { samples: number; at: number }[] = [];
  failNext = false;
  override async record(samples: readonly MetricSample[], at?: number): Promise<void> {
    this.writes.push({ samples: samples.length, at: at ?? -1 });
    if (this.failNext) {
      this.failNext = false;
      throw new Error('redis down');
    }
    await super.record(samples, at);
  }
}

describe('BufferedMetrics', () => {
  let redis: Redis;
  let prefix: string;
  beforeAll(() => {
    redis = new Redis(serviceUrls().redisUrl);
  });
  beforeEach(() => {
    prefix = uniquePrefix('bm');
  });
  afterEach(async () => {
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length) await redis.del(...keys);
  });
  afterAll(() => redis.quit());

  it('writes the samples of many calls in one round trip, within flushMs, exactly', async () => {
    const writer = new CountingWriter(redis, prefix);
    const metrics = new BufferedMetrics(writer, { flushMs: 50 });
    const values = [5, 50, 500, 5000, 7, 70];
    for (const v of values) await metrics.record([{ spec: hist, labels: { kind: 'a' }, valueMs: v }, { spec: ctr, labels: { outcome: 'ok' } }]);
    expect(writer.writes).toEqual([]); // recording never waits for Redis
    // No flush is asked for: the timer writes them, all in one MULTI.
    await waitFor(async () => (await readCounter(redis, prefix, ctr)).length > 0, { timeoutMs: 5_000, message: 'samples written by the timer' });
    expect(writer.writes.map((w) => w.samples)).toEqual([12]);
    expect(await readHistogram(redis, prefix, hist)).toEqual([{ labels: { kind: 'a' }, buckets: [2, 2, 1, 1], sumMs: 5632, count: 6 }]);
    expect(await readCounter(redis, prefix, ctr)).toEqual([{ labels: { outcome: 'ok' }, value: 6 }]);
  });

  it('splits a batch at a minute boundary, so recent-window samples keep their minute', async () => {
    let now = Date.UTC(2026, 0, 1, 10, 0, 59, 900);
    const writer = new CountingWriter(redis, prefix);
    const metrics = new BufferedMetrics(writer, { flushMs: 10_000, now: () => now });
    await metrics.record([{ spec: hist, labels: { kind: 'a' }, valueMs: 5 }]);
    now += 200;
    await metrics.record([{ spec: hist, labels: { kind: 'a' }, valueMs: 6 }, { spec: hist, labels: { kind: 'a' }, valueMs: 7 }]);
    await metrics.flush();
    expect(writer.writes).toEqual([
      { samples: 1, at: Date.UTC(2026, 0, 1, 10, 0, 59, 900) },
      { samples: 2, at: Date.UTC(2026, 0, 1, 10, 1, 0, 100) },
    ]);
    const minute = Math.floor(Date.UTC(2026, 0, 1, 10, 0) / 60_000);
    expect(await redis.hgetall(`${prefix}:metrics:${hist.name}:m${minute}`)).toEqual({ 'kind=a|b0': '1' });
    expect(await redis.hgetall(`${prefix}:metrics:${hist.name}:m${minute + 1}`)).toEqual({ 'kind=a|b0': '2' });
  });

  it('a failed write is reported and dropped, never retried; later samples still land; close flushes', async () => {
    const writer = new CountingWriter(redis, prefix);
    const errors: number[] = [];
    const metrics = new BufferedMetrics(writer, { flushMs: 10_000, onError: (_e, dropped) => errors.push(dropped) });
    await metrics.record([{ spec: ctr, labels: { outcome: 'lost' } }, { spec: ctr, labels: { outcome: 'lost' } }]);
    writer.failNext = true;
    await expect(metrics.flush()).resolves.toBeUndefined();
    expect(errors).toEqual([2]);
    await metrics.record([{ spec: ctr, labels: { outcome: 'ok' }, by: 3 }]);
    await metrics.close();
    expect(await readCounter(redis, prefix, ctr)).toEqual([{ labels: { outcome: 'ok' }, value: 3 }]);
    // After close, each sample is written at once.
    await metrics.record([{ spec: ctr, labels: { outcome: 'ok' } }]);
    await metrics.flush();
    expect(await readCounter(redis, prefix, ctr)).toEqual([{ labels: { outcome: 'ok' }, value: 4 }]);
  });
});
