export { createLogger, REDACTED_PATHS } from './logger';
export type { Logger, LoggerOptions } from './logger';
export {
  ClusterMetricsWriter,
  registerClusterMetrics,
  readHistogram,
  readCounter,
  bucketIndex,
} from './cluster-metrics';
export type { HistogramSpec, CounterSpec, MetricSpec, MetricSample, HistogramSeries, Labels } from './cluster-metrics';
export { METRICS, LATENCY_BUCKETS_MS } from './catalog';
export { handleProbe } from './probes';
export type { ReadinessCheck } from './probes';
export { runApp } from './lifecycle';
export type { StopApp } from './lifecycle';
