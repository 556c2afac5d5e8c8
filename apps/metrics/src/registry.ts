import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { Gauge, Registry } from 'prom-client';
import { deadLettersKey, QUEUE_NAMES } from '@inner-talk/queue';
import { ActivePeople, METRICS, registerClusterMetrics } from '@inner-talk/telemetry';
import { readBreakers, readCooldowns } from './gateway-state';

const JOB_STATES = ['waiting', 'active', 'delayed', 'failed', 'completed', 'prioritized'] as const;
const BREAKER_PROVIDER_PREFIX = 'provider:';

/**
 * The registry behind /metrics, everything read at scrape time (nothing is counted in this
 * process, so it can restart or run twice without changing a number):
 * - cluster-wide histograms, counters and recent-window quantiles written by every worker to Redis;
 * - queue depth by state, dead letters and live workers from BullMQ;
 * - the LLM gateway's breaker states and key cooldowns from its shared Redis state;
 * - people active within recent windows (ActivePeople).
 */
export function buildRegistry(redis: Redis, prefix: string): { registry: Registry; close(): Promise<void> } {
  const registry = new Registry();
  registerClusterMetrics(registry, redis, prefix, Object.values(METRICS));
  const queue = new Queue(QUEUE_NAMES.updates, { connection: redis, prefix });
  const queueLabel = { queue: QUEUE_NAMES.updates };

  new Gauge({
    name: 'innertalk_queue_jobs',
    help: 'Jobs in the updates queue by state',
    labelNames: ['queue', 'state'],
    registers: [registry],
    async collect() {
      const counts = await queue.getJobCounts(...JOB_STATES);
      for (const state of JOB_STATES) this.set({ ...queueLabel, state }, counts[state] ?? 0);
    },
  });

  new Gauge({
    name: 'innertalk_queue_dead_letters',
    help: 'Updates that could not be handled after every attempt (dead letters of the chat inboxes) plus jobs failed for good, kept 7 days',
    labelNames: ['queue'],
    registers: [registry],
    async collect() {
      const weekAgo = Date.now() - 7 * 86_400_000;
      const [letters, failedJobs] = await Promise.all([redis.zcount(deadLettersKey(prefix), String(weekAgo), '+inf'), queue.getFailedCount()]);
      this.set(queueLabel, letters + failedJobs);
    },
  });

  new Gauge({
    name: 'innertalk_workers_active',
    help: 'Worker processes connected to the updates queue (BullMQ worker connections listed by Redis CLIENT LIST)',
    labelNames: ['queue'],
    registers: [registry],
    async collect() {
      this.set(queueLabel, await queue.getWorkersCount());
    },
  });

  new Gauge({
    name: 'innertalk_llm_breaker_state',
    help: 'Circuit breaker per LLM provider: 0 closed, 1 half-open (or open period over), 2 open',
    labelNames: ['provider'],
    registers: [registry],
    async collect() {
      const readings = await readBreakers(redis, prefix);
      // Breakers whose state hash expired must disappear rather than keep their last value.
      this.reset();
      for (const b of readings) {
        if (b.id.startsWith(BREAKER_PROVIDER_PREFIX)) this.set({ provider: b.id.slice(BREAKER_PROVIDER_PREFIX.length) }, b.value);
      }
    },
  });

  new Gauge({
    name: 'innertalk_llm_key_cooldowns',
    help: 'API keys cooling down now (after a 429, an exhausted quota or an invalid key), by provider and reason',
    labelNames: ['provider', 'reason'],
    registers: [registry],
    async collect() {
      const counts = await readCooldowns(redis, prefix);
      this.reset();
      for (const c of counts) this.set({ provider: c.provider, reason: c.reason }, c.keys);
    },
  });

  const activePeople = new ActivePeople(redis, prefix);
  new Gauge({
    name: 'innertalk_active_people',
    help: 'People whose update was handled within the window (5m, 30m, 24h), cluster-wide',
    labelNames: ['window'],
    registers: [registry],
    async collect() {
      const counts = await activePeople.count();
      for (const [window, count] of Object.entries(counts)) this.set({ window }, count);
    },
  });

  return { registry, close: () => queue.close() };
}
