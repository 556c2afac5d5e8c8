import type { Redis } from 'ioredis';
import type { Registry } from 'prom-client';
import { histogramQuantile } from './quantiles';

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
 *
 * Quantiles over a recent window (histograms with `recentQuantiles`): Prometheus computes
 * p50/p95/p99 from the cumulative buckets with `histogram_quantile(rate(...[5m]))`, but someone
 * reading /metrics or a CLI sees only totals since the first observation. So the writer also adds
 * each observation's bucket to a per-minute hash `<prefix>:metrics:<name>:m<epochMinute>` (fields
 * `<labels>|b<i>`, same MULTI, so it is exactly as atomic as the totals; the hash expires
 * `RECENT_KEY_TTL_SECONDS` after its last write). At scrape time the reader sums the hashes of the
 * current minute and the `RECENT_WINDOW_MINUTES - 1` minutes before it (a window of between 4 and 5
 * minutes) and interpolates quantiles like Prometheus' `histogram_quantile` (see quantiles.ts). They
 * are exported as a summary `<name without _seconds>_recent_seconds{quantile}`: quantiles over a
 * sliding window with cumulative `_sum`/`_count`, which is what a Prometheus summary means (NaN
 * while the window is empty). The minute comes from the writer's clock; clocks a few seconds apart
 * only move an observation across a minute boundary.
 */
export interface HistogramSpec {
  kind: 'histogram';
  /** Prometheus name; values are exported in seconds. */
  name: string;
  help: string;
  /** Upper bounds in milliseconds, ascending. */
  bucketsMs: readonly number[];
  labelNames: readonly string[];
  /** Also export these quantiles (0–1) over the last few minutes as a summary; see the header. */
  recentQuantiles?: readonly number[];
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

/** Minutes summed for the recent-window quantiles: the current one and the 4 before it. */
export const RECENT_WINDOW_MINUTES = 5;
/** Per-minute hashes outlive the window comfortably, then expire by themselves. */
export const RECENT_KEY_TTL_SECONDS = 15 * 60;

function metricKey(prefix: string, name: string): string {
  return `${prefix}:metrics:${name}`;
}

function minuteKey(prefix: string, name: string, epochMinute: number): string {
  return `${metricKey(prefix, name)}:m${epochMinute}`;
}

/** Name of the summary carrying a histogram's recent-window quantiles. */
export function recentSummaryName(spec: HistogramSpec): string {
  return spec.name.endsWith('_seconds') ? `${spec.name.slice(0, -'_seconds'.length)}_recent_seconds` : `${spec.name}_recent`;
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

/** Something that takes metric samples: ClusterMetricsWriter writes them, BufferedMetrics batches them. */
export interface MetricsRecorder {
  record(samples: readonly MetricSample[]): Promise<void>;
}

/**
 * Worker side: adds samples to the shared hashes.
 * Guarantees: all samples of one `record` call land together or not at all (one MULTI, one round
 * trip); increments of the same series are summed first, so many samples cost few commands.
 * Failures reject; callers on a hot path decide whether to swallow them.
 */
export class ClusterMetricsWriter implements MetricsRecorder {
  private readonly now: () => number;

  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    options: { now?: () => number } = {},
  ) {
    this.now = options.now ?? Date.now;
  }

  /** Writes `samples`, taken at `at` (ms since the epoch; it picks the recent-window minute). */
  async record(samples: readonly MetricSample[], at: number = this.now()): Promise<void> {
    if (samples.length === 0) return;
    const epochMinute = Math.floor(at / 60_000);
    // key → field → increment; whole increments stay exact integers (HINCRBY), fractional ones
    // (costs in USD) use HINCRBYFLOAT.
    const whole = new Map<string, Map<string, number>>();
    const fractional = new Map<string, Map<string, number>>();
    const add = (key: string, field: string, by: number) => {
      const target = Number.isInteger(by) ? whole : fractional;
      let fields = target.get(key);
      if (!fields) target.set(key, (fields = new Map()));
      fields.set(field, (fields.get(field) ?? 0) + by);
    };
    const minuteKeys = new Set<string>();
    for (const sample of samples) {
      const key = metricKey(this.prefix, sample.spec.name);
      const field = labelField(sample.spec, sample.labels);
      if (sample.spec.kind === 'counter') {
        add(key, field, 'by' in sample ? (sample.by ?? 1) : 1);
      } else if ('valueMs' in sample) {
        const valueMs = Math.max(0, sample.valueMs);
        const bucketField = `${field}|b${bucketIndex(sample.spec.bucketsMs, valueMs)}`;
        add(key, bucketField, 1);
        add(key, `${field}|sum`, Math.round(valueMs * 1000));
        add(key, `${field}|count`, 1);
        if (sample.spec.recentQuantiles?.length) {
          const recentKey = minuteKey(this.prefix, sample.spec.name, epochMinute);
          add(recentKey, bucketField, 1);
          minuteKeys.add(recentKey);
        }
      }
    }
    const multi = this.redis.multi();
    for (const [key, fields] of whole) for (const [field, by] of fields) multi.hincrby(key, field, by);
    for (const [key, fields] of fractional) for (const [field, by] of fields) multi.hincrbyfloat(key, field, by);
    for (const recentKey of minuteKeys) multi.expire(recentKey, RECENT_KEY_TTL_SECONDS);
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
  return parseHistogramHashes(spec, [await redis.hgetall(metricKey(prefix, spec.name))]);
}

/**
 * Reads one histogram's observations of the recent window (the minute of `nowMs` and the
 * `windowMinutes - 1` before it) from the per-minute hashes. Only bucket counts are kept per
 * minute: `sumMs` is 0 and `count` is the sum of the buckets.
 */
export async function readRecentHistogram(
  redis: Redis,
  prefix: string,
  spec: HistogramSpec,
  nowMs: number = Date.now(),
  windowMinutes: number = RECENT_WINDOW_MINUTES,
): Promise<HistogramSeries[]> {
  const current = Math.floor(nowMs / 60_000);
  const pipeline = redis.pipeline();
  for (let m = current - windowMinutes + 1; m <= current; m++) pipeline.hgetall(minuteKey(prefix, spec.name, m));
  const results = (await pipeline.exec()) ?? [];
  const hashes: Array<Record<string, string>> = [];
  for (const [error, hash] of results) {
    if (error) throw error;
    hashes.push(hash as Record<string, string>);
  }
  const series = parseHistogramHashes(spec, hashes);
  for (const s of series) s.count = s.buckets.reduce((a, b) => a + b, 0);
  return series;
}

/** Adds up histogram hashes (fields `<labels>|b<i>`, `|sum`, `|count`) into series per label set. */
function parseHistogramHashes(spec: HistogramSpec, hashes: ReadonlyArray<Record<string, string>>): HistogramSeries[] {
  const series = new Map<string, HistogramSeries>();
  for (const [field, raw] of hashes.flatMap((hash) => Object.entries(hash))) {
    const bar = field.lastIndexOf('|');
    const labelPart = field.slice(0, bar);
    const part = field.slice(bar + 1);
    let entry = series.get(labelPart);
    if (!entry) {
      entry = { labels: parseLabelField(labelPart), buckets: new Array<number>(spec.bucketsMs.length + 1).fill(0), sumMs: 0, count: 0 };
      series.set(labelPart, entry);
    }
    const value = Number(raw);
    if (part === 'sum') entry.sumMs += value / 1000;
    else if (part === 'count') entry.count += value;
    else if (part.startsWith('b')) {
      const i = Number(part.slice(1));
      if (i >= 0 && i < entry.buckets.length) entry.buckets[i]! += value;
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

function labelKey(labels: Record<string, string>): string {
  return JSON.stringify(Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/**
 * Values of the recent-window summary: per label set (of the totals, so a series does not vanish
 * when its window is empty) the quantiles of the window (NaN when it is empty) and the cumulative
 * `_sum` and `_count`.
 */
function recentSummaryValues(spec: HistogramSpec, totals: readonly HistogramSeries[], recent: readonly HistogramSeries[]): PromValue[] {
  const name = recentSummaryName(spec);
  const window = new Map(recent.map((s) => [labelKey(s.labels), s]));
  const bounds = spec.bucketsMs.map((ms) => ms / 1000);
  const values: PromValue[] = [];
  const labelSets = new Map<string, { total?: HistogramSeries; recent?: HistogramSeries; labels: Record<string, string> }>();
  for (const s of totals) labelSets.set(labelKey(s.labels), { total: s, labels: s.labels });
  for (const [key, s] of window) {
    const entry = labelSets.get(key);
    if (entry) entry.recent = s;
    else labelSets.set(key, { recent: s, labels: s.labels });
  }
  for (const { total, recent: windowSeries, labels } of labelSets.values()) {
    for (const q of spec.recentQuantiles ?? []) {
      const value = windowSeries ? histogramQuantile(q, bounds, windowSeries.buckets) : NaN;
      values.push({ metricName: name, labels: { ...labels, quantile: q }, value });
    }
    values.push({ metricName: `${name}_sum`, labels, value: (total?.sumMs ?? 0) / 1000 });
    values.push({ metricName: `${name}_count`, labels, value: total?.count ?? 0 });
  }
  return values;
}

/**
 * Metrics-app side: registers every spec in `registry` as a metric whose value is read from Redis
 * at scrape time (so the exposition is prom-client's own format, and nothing is cached in memory).
 * Histograms with `recentQuantiles` also get their recent-window summary (see the header).
 */
export function registerClusterMetrics(
  registry: Registry,
  redis: Redis,
  prefix: string,
  specs: readonly MetricSpec[],
  options: { now?: () => number } = {},
): void {
  const now = options.now ?? Date.now;
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
    if (spec.kind === 'histogram' && spec.recentQuantiles?.length) {
      const name = recentSummaryName(spec);
      const help = `${spec.help}; quantiles over the last ${RECENT_WINDOW_MINUTES} minutes (NaN when none), _sum and _count since the start`;
      registry.registerMetric({
        name,
        help,
        type: 'summary',
        aggregator: 'sum',
        async get() {
          const [totals, recent] = await Promise.all([readHistogram(redis, prefix, spec), readRecentHistogram(redis, prefix, spec, now())]);
          return { name, help, type: 'summary', aggregator: 'sum', values: recentSummaryValues(spec, totals, recent) };
        },
      } as unknown as Parameters<Registry['registerMetric']>[0]);
    }
  }
}
