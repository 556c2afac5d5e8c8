import { DelayedError, UnrecoverableError, type Job, type Queue } from 'bullmq';
import { drainJobSchema, finishedJobData, InvalidJobError, parseJob, QUEUE_NAMES, queueDrain, type DrainJob } from '@inner-talk/queue';
import type { Logger } from '@inner-talk/telemetry';
import type { ChatDrainer } from './drain';

export interface ProcessorDeps {
  drainer: ChatDrainer;
  /** Where hand-over jobs go (the updates queue). */
  queue: Queue<DrainJob>;
  logger: Logger;
  now?: () => number;
}

/**
 * BullMQ processor for QUEUE_NAMES.updates: parse the trigger → drain the chat → map the outcome.
 * Bad job data is unrecoverable (no retry). A chat that must wait (retry backoff, every provider
 * unavailable) parks the job itself with `moveToDelayed`, which uses up no attempts: failures are
 * counted per update in the inbox, where they decide the dead letter. A job that is done keeps no
 * chat in its data (see finishedJobData): finished jobs are retained, and must not name a chat.
 */
export function createUpdateProcessor(deps: ProcessorDeps): (job: Job, token?: string) => Promise<string> {
  const now = deps.now ?? Date.now;
  return async (job, token) => {
    let data: DrainJob;
    try {
      data = parseJob(QUEUE_NAMES.updates, drainJobSchema, job.data);
    } catch (error) {
      if (error instanceof InvalidJobError) throw new UnrecoverableError(error.message);
      throw error;
    }
    const outcome = await deps.drainer.drain(data.chat, job.id ?? `anon-${now()}`);
    switch (outcome.kind) {
      case 'merged':
      case 'drained':
      case 'lost_lock':
        // A crash right after this re-runs the job without a chat: it fails as invalid, and the
        // chat, drained already, loses nothing.
        await job.updateData(finishedJobData(data));
        return outcome.kind;
      case 'handover':
        // Let go first, then queue the continuation: a job that runs in between simply takes the
        // chat itself; a crash in between leaves the chat to the sweeper.
        await deps.drainer.handOver(data.chat, job.id ?? '');
        await queueDrain(deps.queue, data.chat, `h${job.id}-${now()}`);
        await job.updateData(finishedJobData(data));
        return outcome.kind;
      case 'retry_at':
        if (!token) throw new Error('cannot delay a job without its lock token');
        await job.moveToDelayed(Math.max(outcome.at, now() + 1), token);
        throw new DelayedError();
    }
  };
}
