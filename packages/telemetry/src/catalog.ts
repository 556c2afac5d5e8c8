import type { CounterSpec, HistogramSpec } from './cluster-metrics';

/**
 * Latency buckets in milliseconds: fine below 100 ms (our own overhead) and through 1–5 s (the
 * reply goals: p50 1.0–1.5 s, p95 2–3 s, p99 3–5 s), up to 30 s (the LLM timeout).
 */
export const LATENCY_BUCKETS_MS = [
  5, 10, 25, 50, 100, 250, 500, 750, 1000, 1250, 1500, 2000, 2500, 3000, 4000, 5000, 7500, 10000, 15000, 20000, 30000,
] as const;

/** Every cluster-wide metric, in one catalogue shared by the writers (workers) and the reader (metrics app). */
export const METRICS = {
  replyLatency: {
    kind: 'histogram',
    name: 'innertalk_reply_latency_seconds',
    help: 'End-to-end time from the ingress receiving an update to Telegram accepting the reply',
    bucketsMs: LATENCY_BUCKETS_MS,
    labelNames: ['kind'],
  },
  queueWait: {
    kind: 'histogram',
    name: 'innertalk_queue_wait_seconds',
    help: 'Time an update waited in the queue before a worker picked it up',
    bucketsMs: LATENCY_BUCKETS_MS,
    labelNames: [],
  },
  processing: {
    kind: 'histogram',
    name: 'innertalk_processing_seconds',
    help: 'Time a worker spent handling one update',
    bucketsMs: LATENCY_BUCKETS_MS,
    labelNames: ['outcome'],
  },
  llmCallLatency: {
    kind: 'histogram',
    name: 'innertalk_llm_call_seconds',
    help: 'Duration of one LLM provider call, by provider, model and outcome (ok or the error kind)',
    bucketsMs: LATENCY_BUCKETS_MS,
    labelNames: ['provider', 'model', 'outcome'],
  },
  llmTokens: {
    kind: 'counter',
    name: 'innertalk_llm_tokens_total',
    help: 'Tokens reported by the providers, by provider, model and type (input, cached_input, output, reasoning)',
    labelNames: ['provider', 'model', 'type'],
  },
  llmCost: {
    kind: 'counter',
    name: 'innertalk_llm_cost_usd_total',
    help: 'Cost of LLM calls in USD from reported usage and the configured price table',
    labelNames: ['provider', 'model'],
  },
  llmFallbacks: {
    kind: 'counter',
    name: 'innertalk_llm_fallback_answers_total',
    help: 'Replies answered by a provider other than the primary, by provider',
    labelNames: ['provider'],
  },
  waitNotices: {
    kind: 'counter',
    name: 'innertalk_wait_notices_total',
    help: 'Times a person was told "I need a moment" because every provider was unavailable',
    labelNames: [],
  },
  updatesProcessed: {
    kind: 'counter',
    name: 'innertalk_updates_processed_total',
    help: 'Updates handled by the workers, by outcome',
    labelNames: ['outcome'],
  },
} as const satisfies Record<string, HistogramSpec | CounterSpec>;
