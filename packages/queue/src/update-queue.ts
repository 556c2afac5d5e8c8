import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { QUEUE_NAMES } from './names';
import type { TelegramUpdatePayload, UpdateJob } from './jobs';

export interface UpdateQueueOptions {
  connection: Redis;
  prefix: string;
  /** How long a seen update_id is remembered to drop Telegram's redeliveries. */
  dedupeTtlMs: number;
  /** How long finished jobs stay inspectable (and keep their jobId, a second dedupe guard). */
  keepFinishedMs?: number;
  /** Attempts before a job is failed for good (a later change adds a dead-letter store). */
  attempts?: number;
}

/** A job id BullMQ accepts for an update: not all digits and without `:` (BullMQ rules). */
export function updateJobId(updateId: number): string {
  return `u${updateId}`;
}

/**
 * Producer side of QUEUE_NAMES.updates.
 *
 * Guarantees: `enqueue` resolves only after Redis has stored the job (the ingress acknowledges
 * Telegram after that and never before). The same update_id enqueued again within `dedupeTtlMs`
 * is dropped atomically inside BullMQ's add script (deduplication with a TTL, not a high-water
 * mark: update_id may jump after a quiet week), and the job id derived from update_id makes a
 * re-add of a still-retained job a no-op as well.
 */
export class UpdateQueue {
  readonly queue: Queue<UpdateJob>;
  private readonly dedupeTtlMs: number;

  constructor(options: UpdateQueueOptions) {
    this.dedupeTtlMs = options.dedupeTtlMs;
    const keepSeconds = Math.ceil((options.keepFinishedMs ?? 3_600_000) / 1000);
    this.queue = new Queue<UpdateJob>(QUEUE_NAMES.updates, {
      connection: options.connection,
      prefix: options.prefix,
      defaultJobOptions: {
        attempts: options.attempts ?? 5,
        backoff: { type: 'exponential', delay: 1000 },
        removeOnComplete: { age: keepSeconds },
        removeOnFail: { age: 7 * 24 * 3600 },
      },
    });
  }

  /** Stores `update` as a job. Rejects if Redis did not accept it; the caller must then not acknowledge. */
  async enqueue(update: TelegramUpdatePayload, receivedAt: number, traceId: string): Promise<void> {
    const jobId = updateJobId(update.update_id);
    await this.queue.add(
      'update',
      { update, receivedAt, traceId },
      { jobId, deduplication: { id: jobId, ttl: this.dedupeTtlMs } },
    );
  }

  /** Closes the queue (not the shared connection). */
  async close(): Promise<void> {
    await this.queue.close();
  }
}
