import { DelayedError, UnrecoverableError, type Job } from 'bullmq';
import { AllProvidersUnavailableError } from '@inner-talk/gateway';
import { BotError, type Bot } from 'grammy';
import type { Update } from 'grammy/types';
import { InvalidJobError, parseJob, QUEUE_NAMES, updateJobSchema } from '@inner-talk/queue';
import { METRICS, type ClusterMetricsWriter, type Logger, type MetricSample } from '@inner-talk/telemetry';
import type { UpdateReport } from './bot';

export interface ProcessorDeps {
  bot: Bot;
  reports: Map<number, UpdateReport>;
  metrics: ClusterMetricsWriter;
  logger: Logger;
  now?: () => number;
}

/**
 * BullMQ processor for QUEUE_NAMES.updates: parse → hand the update to the bot → record timings.
 * Bad job data is unrecoverable (no retry); any other failure is rethrown so BullMQ retries it.
 */
export function createUpdateProcessor(deps: ProcessorDeps): (job: Job, token?: string) => Promise<void> {
  const now = deps.now ?? Date.now;
  return async (job, token) => {
    const startedAt = now();
    let data;
    try {
      data = parseJob(QUEUE_NAMES.updates, updateJobSchema, job.data);
    } catch (error) {
      if (error instanceof InvalidJobError) throw new UnrecoverableError(error.message);
      throw error;
    }
    const log = deps.logger.child({ traceId: data.traceId, updateId: data.update.update_id, attempt: job.attemptsMade + 1 });
    const report: UpdateReport = { repliesSent: 0, waitNoticeSent: false };
    deps.reports.set(data.update.update_id, report);
    let outcome = 'ok';
    try {
      await deps.bot.handleUpdate(data.update as unknown as Update);
    } catch (error) {
      outcome = 'error';
      // grammY wraps middleware errors in BotError; the cause decides the retry.
      const cause = error instanceof BotError ? error.error : error;
      if (cause instanceof AllProvidersUnavailableError && token) {
        // Not a failure of the job: park it until the earliest provider is back (attempts are not
        // used up), so nothing is dropped however long the outage lasts.
        outcome = 'delayed';
        log.warn({ retryAt: cause.retryAt, skips: cause.skips }, 'every LLM provider unavailable; job delayed');
        await job.moveToDelayed(Math.max(cause.retryAt, now() + 100), token);
        throw new DelayedError();
      }
      log.warn({ err: describe(cause) }, 'update failed');
      throw cause;
    } finally {
      deps.reports.delete(data.update.update_id);
      const finishedAt = now();
      const samples: MetricSample[] = [
        { spec: METRICS.queueWait, valueMs: startedAt - data.receivedAt },
        { spec: METRICS.processing, labels: { outcome }, valueMs: finishedAt - startedAt },
        { spec: METRICS.updatesProcessed, labels: { outcome } },
      ];
      if (report.waitNoticeSent) samples.push({ spec: METRICS.waitNotices });
      if (outcome === 'ok' && report.repliesSent > 0) {
        samples.push({ spec: METRICS.replyLatency, labels: { kind: 'message' }, valueMs: finishedAt - data.receivedAt });
      }
      // Metrics never fail a turn that already reached the person.
      await deps.metrics.record(samples).catch((err: unknown) => log.warn({ err: describe(err) }, 'metrics write failed'));
      log.info({ outcome, replies: report.repliesSent, ms: finishedAt - startedAt }, 'update handled');
    }
  };
}

/** Error summary safe for logs: class, name and status only — messages may quote user text. */
function describe(error: unknown): Record<string, unknown> {
  if (!(error instanceof Error)) return { type: typeof error };
  const extra = error as Error & { kind?: string; status?: number; error_code?: number; provider?: string };
  return { type: error.constructor.name, name: error.name, kind: extra.kind, status: extra.status ?? extra.error_code, provider: extra.provider };
}
