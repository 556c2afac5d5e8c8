import type { Redis } from 'ioredis';
import type { Registry } from 'prom-client';

/**
 * Cluster-wide metrics through Redis.
 *
 * Why not per-process prom-client registries: workers are scaled with `docker compose --scale`
 * (no fixed names, no ports to scrape, no service discovery), and a per-process registry loses its
 * counts when the process dies or restarts. So every worker adds its observations to shared Redis
 * hashes with HINCRBY inside one MULTI (atomic per observation: bucket, sum and count move
 * together), and the metrics app turns the hashes into Prometheus histograms and counters.
 * Totals are exact for any number of workers, survive restarts, and never double count.
 *
 * Redis layout (one hash per metric): `<prefix>:metrics:<name>` with fields
 * `<labels>|b<i>` (observations in bucket i, not cumulative; i = buckets.length is +Inf),
 * `<labels>|sum` (sum in microseconds, an integer so HINCRBY stays exact), `<labels>|count`;
 * counters use the field `<labels>`. `<labels>` is `k=v,k=v` in the spec's label order.
 */
export interface HistogramSpec {
  kind: 'histogram';
  /** Prometheus name; values are exported in seconds. */
  name: string;
  help: string;
  /** Upper bounds in milliseconds, ascending. */
  bucketsMs: readonly number[];
  labelNames: readonly string[];
}

export interface CounterSpec {
  kind: 'counter';
  name: string;
  help: string;
  labelNames: readonly string[];
}

export type MetricSpec = HistogramSpec | CounterSpec;
export type Labels = Readonly<Record<string, string>>;

/** One observation or increment, written by ClusterMetricsWriter.record. */
export type MetricSample =
  | { spec: HistogramSpec; labels?: Labels; valueMs: number }
  | { spec: CounterSpec; labels?: Labels; by?: number };

function metricKey(prefix: string, name: string): string {
  return `${prefix}:metrics:${name}`;
}

// Label values come from our code (provider names, outcomes), never from users; still, keep the
// field format unambiguous.
function labelField(spec: MetricSpec, labels: Labels = {}): string {
  return spec.labelNames.map((n) => `${n}=${(labels[n] ?? '').replace(/[,=|]/g, '_')}`).join(',');
}

function parseLabelField(field: string): Record<string, string> {
  const labels: Record<string, string> = {};
  if (field === '') return labels;
  for (const pair of field.split(',')) {
    const eq = pair.indexOf('=');
    labels[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return labels;
}

/** Index of the first bucket whose bound is ≥ value; buckets.length for +Inf. */
export function bucketIndex(bucketsMs: readonly number[], valueMs: number): number {
  for (let i = 0; i < bucketsMs.length; i++) if (valueMs <= bucketsMs[i]!) return i;
  return bucketsMs.length;
}

/**
 * Worker side: adds samples to the shared hashes.
 * Guarantees: all samples of one `record` call land together or not at all (one MULTI, one round
 * trip). Failures reject; callers on a hot path decide whether to swallow them.
 */
export class ClusterMetricsWriter {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {}

  async record(samples: readonly MetricSample[]): Promise<void> {
    if (samples.length === 0) return;
    const multi = this.redis.multi();
    for (const sample of samples) {
      const key = metricKey(this.prefix, sample.spec.name);
      const field = labelField(sample.spec, sample.labels);
      if (sample.spec.kind === 'counter') {
        const by = 'by' in sample ? (sample.by ?? 1) : 1;
        // Whole increments stay exact integers; fractional ones (costs in USD) use HINCRBYFLOAT.
        if (Number.isInteger(by)) multi.hincrby(key, field, by);
        else multi.hincrbyfloat(key, field, by);
      } else if ('valueMs' in sample) {
        const valueMs = Math.max(0, sample.valueMs);
        multi.hincrby(key, `${field}|b${bucketIndex(sample.spec.bucketsMs, valueMs)}`, 1);
        multi.hincrby(key, `${field}|sum`, Math.round(valueMs * 1000));
        multi.hincrby(key, `${field}|count`, 1);
      }
    }
    const results = await multi.exec();
    const failed = results?.find(([error]) => error);
    if (!results || failed) throw failed?.[0] ?? new Error('metrics MULTI was discarded');
  }
}

interface PromValue {
  value: number;
  labels: Record<string, string | number>;
  metricName?: string;
}

/** Totals of one histogram series, as read back from Redis (non-cumulative bucket counts). */
export interface HistogramSeries {
  labels: Record<string, string>;
  buckets: number[];
  sumMs: number;
  count: number;
}

/** Reads one histogram's series from Redis. */
export async function readHistogram(redis: Redis, prefix: string, spec: HistogramSpec): Promise<HistogramSeries[]> {
  const hash = await redis.hgetall(metricKey(prefix, spec.name));
  const series = new Map<string, HistogramSeries>();
  for (const [field, raw] of Object.entries(hash)) {
    const bar = field.lastIndexOf('|');
    const labelPart = field.slice(0, bar);
    const part = field.slice(bar + 1);
    let entry = series.get(labelPart);
    if (!entry) {
      entry = { labels: parseLabelField(labelPart), buckets: new Array<number>(spec.bucketsMs.length + 1).fill(0), sumMs: 0, count: 0 };
      series.set(labelPart, entry);
    }
    const value = Number(raw);
    if (part === 'sum') entry.sumMs = value / 1000;
    else if (part === 'count') entry.count = value;
    else if (part.startsWith('b')) {
      const i = Number(part.slice(1));
      if (i >= 0 && i < entry.buckets.length) entry.buckets[i] = value;
    }
  }
  return [...series.values()];
}

/** Reads one counter's series from Redis. */
export async function readCounter(redis: Redis, prefix: string, spec: CounterSpec): Promise<Array<{ labels: Record<string, string>; value: number }>> {
  const hash = await redis.hgetall(metricKey(prefix, spec.name));
  return Object.entries(hash).map(([field, raw]) => ({ labels: parseLabelField(field), value: Number(raw) }));
}

function histogramValues(spec: HistogramSpec, series: readonly HistogramSeries[]): PromValue[] {
  const values: PromValue[] = [];
  for (const s of series) {
    let cumulative = 0;
    spec.bucketsMs.forEach((bound, i) => {
      cumulative += s.buckets[i] ?? 0;
      values.push({ metricName: `${spec.name}_bucket`, labels: { ...s.labels, le: bound / 1000 }, value: cumulative });
    });
    cumulative += s.buckets[spec.bucketsMs.length] ?? 0;
    values.push({ metricName: `${spec.name}_bucket`, labels: { ...s.labels, le: '+Inf' }, value: cumulative });
    values.push({ metricName: `${spec.name}_sum`, labels: s.labels, value: s.sumMs / 1000 });
    values.push({ metricName: `${spec.name}_count`, labels: s.labels, value: s.count });
  }
  return values;
}

/**
 * Metrics-app side: registers every spec in `registry` as a metric whose value is read from Redis
 * at scrape time (so the exposition is prom-client's own format, and nothing is cached in memory).
 */
export function registerClusterMetrics(registry: Registry, redis: Redis, prefix: string, specs: readonly MetricSpec[]): void {
  for (const spec of specs) {
    registry.registerMetric({
      name: spec.name,
      help: spec.help,
      type: spec.kind,
      aggregator: 'sum',
      async get() {
        const values =
          spec.kind === 'histogram'
            ? histogramValues(spec, await readHistogram(redis, prefix, spec))
            : (await readCounter(redis, prefix, spec)).map((c) => ({ labels: c.labels, value: c.value }));
        return { name: spec.name, help: spec.help, type: spec.kind, aggregator: 'sum', values };
      },
    } as unknown as Parameters<Registry['registerMetric']>[0]);
  }
}
