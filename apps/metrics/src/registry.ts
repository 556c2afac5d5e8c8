import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { Gauge, Registry } from 'prom-client';
import { QUEUE_NAMES } from '@inner-talk/queue';
import { METRICS, registerClusterMetrics } from '@inner-talk/telemetry';

const JOB_STATES = ['waiting', 'active', 'delayed', 'failed', 'completed', 'prioritized'] as const;

/**
 * The registry behind /metrics: cluster-wide histograms and counters read from Redis at scrape
 * time (written by every worker), plus queue depth by state from BullMQ.
 */
export function buildRegistry(redis: Redis, prefix: string): { registry: Registry; close(): Promise<void> } {
  const registry = new Registry();
  registerClusterMetrics(registry, redis, prefix, Object.values(METRICS));
  const queue = new Queue(QUEUE_NAMES.updates, { connection: redis, prefix });
  new Gauge({
    name: 'innertalk_queue_jobs',
    help: 'Jobs in the updates queue by state',
    labelNames: ['queue', 'state'],
    registers: [registry],
    async collect() {
      const counts = await queue.getJobCounts(...JOB_STATES);
      for (const state of JOB_STATES) this.set({ queue: QUEUE_NAMES.updates, state }, counts[state] ?? 0);
    },
  });
  return { registry, close: () => queue.close() };
}
