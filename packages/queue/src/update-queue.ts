import { createHash } from 'node:crypto';
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Vault } from '@inner-talk/vault';
import { ChatInbox } from './chat-inbox';
import { QUEUE_NAMES } from './names';
import type { DrainJob, TelegramUpdatePayload } from './jobs';

export interface UpdateQueueOptions {
  connection: Redis;
  prefix: string;
  /** Seals each update before it enters the inbox and names chats by pseudonym (the worker's keyring). */
  vault: Vault;
  /** How long a seen update_id is remembered to drop Telegram's redeliveries. */
  dedupeTtlMs: number;
  /** How long finished jobs stay inspectable (and keep their jobId, a second dedupe guard). */
  keepFinishedMs?: number;
}

/** A job id BullMQ accepts for an update: not all digits and without `:` (BullMQ rules). */
export function updateJobId(updateId: number): string {
  return `u${updateId}`;
}

/**
 * Producer side of QUEUE_NAMES.updates: appends an update, sealed, to its chat's inbox, then queues
 * a trigger job for the chat, named by the chat's pseudonym.
 *
 * Guarantees: `enqueue` resolves only after Redis has stored both (the ingress acknowledges
 * Telegram after that and never before). The same update_id enqueued again within `dedupeTtlMs`
 * is not appended again (an expiring marker, not a high-water mark: update_id may jump after a
 * quiet week); its trigger is re-added (a no-op while the first is retained), which also repairs a
 * crash between the two writes.
 */
export class UpdateQueue {
  readonly queue: Queue<DrainJob>;
  readonly inbox: ChatInbox;
  private readonly dedupeTtlMs: number;

  constructor(options: UpdateQueueOptions) {
    this.dedupeTtlMs = options.dedupeTtlMs;
    this.inbox = new ChatInbox(options.connection, options.prefix, options.vault);
    this.queue = createUpdatesQueue(options.connection, options.prefix, options.keepFinishedMs);
  }

  /** Stores `update`. Rejects if Redis did not accept it; the caller must then not acknowledge. */
  async enqueue(update: TelegramUpdatePayload, receivedAt: number, traceId: string): Promise<{ chat: string; appended: boolean }> {
    const pushed = await this.inbox.push(update, receivedAt, traceId, this.dedupeTtlMs);
    const jobId = updateJobId(update.update_id);
    await this.queue.add('update', { chat: pushed.chat, updateId: update.update_id, traceId }, { jobId });
    return pushed;
  }

  /** Closes the queue (not the shared connection). */
  async close(): Promise<void> {
    await this.queue.close();
  }
}

/**
 * The updates queue with its job defaults. Attempts are few and cheap: a job only drains an inbox,
 * and failures of an update are counted per update in the inbox (dead letter after N), not per job.
 */
export function createUpdatesQueue(connection: Redis, prefix: string, keepFinishedMs = 3_600_000): Queue<DrainJob> {
  const keepSeconds = Math.ceil(keepFinishedMs / 1000);
  return new Queue<DrainJob>(QUEUE_NAMES.updates, {
    connection,
    prefix,
    defaultJobOptions: {
      attempts: 5,
      backoff: { type: 'exponential', delay: 1000 },
      removeOnComplete: { age: keepSeconds },
      removeOnFail: { age: 7 * 24 * 3600 },
    },
  });
}

/**
 * Queues a drain job for `chat` that is not tied to an arriving update: a hand-over from a worker
 * that drained its share, or a sweep of a chat whose trigger was lost. `tag` and the chat make the
 * job id (hashed, so the id, which BullMQ keeps in key names, does not carry the chat's name), so
 * callers that might race (several workers sweeping) pass the same tag and add one job.
 */
export async function queueDrain(queue: Queue<DrainJob>, chat: string, tag: string): Promise<void> {
  await queue.add('drain', { chat }, { jobId: drainJobId(chat, tag) });
}

/** A job id BullMQ accepts (not all digits, no `:`) made from the chat and a tag, not showing either. */
export function drainJobId(chat: string, tag: string): string {
  return `c${createHash('sha256').update(`${chat}|${tag}`).digest('base64url').slice(0, 22)}`;
}

/**
 * The data a finished job keeps: without the chat. Completed jobs are kept an hour (their id is a
 * second guard against duplicates) and failed ones a week; neither needs to say which chat it
 * drained, and a person who asked to be forgotten must not stay named in them.
 */
export function finishedJobData(data: DrainJob): Omit<DrainJob, 'chat'> {
  return { ...(data.updateId !== undefined && { updateId: data.updateId }), ...(data.traceId !== undefined && { traceId: data.traceId }) };
}

/**
 * Removes the failed jobs (kept a week) that name one of `chats`, e.g. every pseudonym of a chat
 * whose person asked to be forgotten. Returns how many went. Reads the failed set in pages.
 */
export async function removeFailedJobsOf(queue: Queue<DrainJob>, chats: readonly string[]): Promise<number> {
  const names = new Set(chats);
  let removed = 0;
  const page = 200;
  for (let start = 0; ; start += page) {
    const jobs = await queue.getFailed(start, start + page - 1);
    const ours = jobs.filter((job) => names.has((job.data as Partial<DrainJob> | undefined)?.chat ?? ''));
    for (const job of ours) await job.remove().then(() => (removed += 1), () => undefined);
    if (jobs.length < page) return removed;
    start -= ours.length; // the removed ones no longer take places in the set
  }
}
