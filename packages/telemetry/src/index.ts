export { createLogger, REDACTED_PATHS } from './logger';
export type { Logger, LoggerOptions } from './logger';
export {
  ClusterMetricsWriter,
  registerClusterMetrics,
  readHistogram,
  readCounter,
  readRecentHistogram,
  recentSummaryName,
  bucketIndex,
  RECENT_WINDOW_MINUTES,
  RECENT_KEY_TTL_SECONDS,
} from './cluster-metrics';
export { histogramQuantile } from './quantiles';
export type { HistogramSpec, CounterSpec, MetricSpec, MetricSample, MetricsRecorder, HistogramSeries, Labels } from './cluster-metrics';
export { BufferedMetrics } from './buffered-metrics';
export type { BufferedMetricsOptions } from './buffered-metrics';
export { METRICS, LATENCY_BUCKETS_MS, RECENT_QUANTILES } from './catalog';
export { handleProbe } from './probes';
export type { ReadinessCheck } from './probes';
export { runApp } from './lifecycle';
export { DEFAULT_SHUTDOWN_GRACE_MS, SHUTDOWN_CLOSE_MS } from './lifecycle';
export type { StopApp, RunningApp } from './lifecycle';
export { ActivePeople, ACTIVE_PEOPLE_WINDOWS } from './active-people';
