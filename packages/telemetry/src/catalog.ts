import type { CounterSpec, HistogramSpec } from './cluster-metrics';

/**
 * Latency buckets in milliseconds: fine below 100 ms (our own overhead) and through 1–5 s (the
 * reply goals: p50 1.0–1.5 s, p95 2–3 s, p99 3–5 s), up to 30 s (the LLM timeout).
 */
export const LATENCY_BUCKETS_MS = [
  5, 10, 25, 50, 100, 250, 500, 750, 1000, 1250, 1500, 2000, 2500, 3000, 4000, 5000, 7500, 10000, 15000, 20000, 30000,
] as const;

/** Quantiles exported over the recent window for the latency histograms (see cluster-metrics.ts). */
export const RECENT_QUANTILES = [0.5, 0.95, 0.99] as const;

/** Every cluster-wide metric, in one catalogue shared by the writers (workers) and the reader (metrics app). */
export const METRICS = {
  replyLatency: {
    kind: 'histogram',
    name: 'innertalk_reply_latency_seconds',
    help: 'End-to-end time from the ingress receiving an update to Telegram accepting the reply',
    bucketsMs: LATENCY_BUCKETS_MS,
    labelNames: ['kind'],
    recentQuantiles: RECENT_QUANTILES,
  },
  queueWait: {
    kind: 'histogram',
    name: 'innertalk_queue_wait_seconds',
    help: 'Time an update waited in the queue before a worker picked it up',
    bucketsMs: LATENCY_BUCKETS_MS,
    labelNames: [],
    recentQuantiles: RECENT_QUANTILES,
  },
  processing: {
    kind: 'histogram',
    name: 'innertalk_processing_seconds',
    help: 'Time a worker spent handling one update',
    bucketsMs: LATENCY_BUCKETS_MS,
    labelNames: ['outcome'],
    recentQuantiles: RECENT_QUANTILES,
  },
  llmCallLatency: {
    kind: 'histogram',
    name: 'innertalk_llm_call_seconds',
    help: 'Duration of one LLM provider call, by provider, model and outcome (ok or the error kind)',
    bucketsMs: LATENCY_BUCKETS_MS,
    labelNames: ['provider', 'model', 'outcome'],
    recentQuantiles: RECENT_QUANTILES,
  },
  telegramApiLatency: {
    kind: 'histogram',
    name: 'innertalk_telegram_api_seconds',
    help: 'Duration of one Telegram Bot API call (each attempt, retries included), by method and outcome (ok, error_<code>, network)',
    bucketsMs: LATENCY_BUCKETS_MS,
    labelNames: ['method', 'outcome'],
    recentQuantiles: RECENT_QUANTILES,
  },
  llmLimiterRejections: {
    kind: 'counter',
    name: 'innertalk_llm_limiter_rejections_total',
    help: 'Calls the shared RPM/TPM limiter refused (another key or provider was tried instead), by provider and reason (rpm, tpm)',
    labelNames: ['provider', 'reason'],
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
    help: 'Interim notices while a message waits: "I need a moment" (every provider unavailable) or the crisis contacts (the crisis check could not run)',
    labelNames: [],
  },
  updatesProcessed: {
    kind: 'counter',
    name: 'innertalk_updates_processed_total',
    help: 'Turns handled by the workers, by outcome (ok, delayed, error, dead_letter, recipient_gone)',
    labelNames: ['outcome'],
  },
  coalescedMessages: {
    kind: 'counter',
    name: 'innertalk_coalesced_messages_total',
    help: 'Messages answered as part of a multi-message turn (rapid consecutive texts merged)',
    labelNames: [],
  },
  telegramCooldowns: {
    kind: 'counter',
    name: 'innertalk_telegram_cooldowns_total',
    help: 'Telegram 429 answers turned into a cluster-wide cooldown of the chat',
    labelNames: [],
  },
  deliveriesSkipped: {
    kind: 'counter',
    name: 'innertalk_deliveries_skipped_total',
    help: 'Reply messages not sent again because a retried turn had already delivered them',
    labelNames: [],
  },
  contextCache: {
    kind: 'counter',
    name: 'innertalk_context_cache_total',
    help: 'Lookups of a person\'s assembled long-term context in the Redis cache, by result (hit, miss)',
    labelNames: ['result'],
  },
  limitedMessages: {
    kind: 'counter',
    name: 'innertalk_limited_messages_total',
    help: 'Messages answered with a limit notice instead of a model reply, by limit (rate, daily_tokens)',
    labelNames: ['limit'],
  },
} as const satisfies Record<string, HistogramSpec | CounterSpec>;
