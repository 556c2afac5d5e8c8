import type { ClusterMetricsWriter, MetricSample, MetricsRecorder } from './cluster-metrics';

export interface BufferedMetricsOptions {
  /** Longest a sample waits before it is written (default 200 ms). */
  flushMs?: number;
  /** Samples held at most; more are written at once (default 5,000). */
  maxPending?: number;
  /** Told about a write that failed; its samples are dropped. */
  onError?: (error: unknown, dropped: number) => void;
  now?: () => number;
}

/**
 * Collects samples and writes them together, one MULTI every `flushMs`. A turn records samples in
 * about six places (model calls, Bot API calls, the cache, the drain); a MULTI for each was a Redis
 * round trip each and the largest single item of a worker's CPU profile under load. prom-client
 * has no shared-across-processes store, so the batching is ours.
 *
 * Guarantees: `record` returns at once and never rejects (metrics never hold up or fail a turn);
 * samples are written in the order recorded, each with the minute it was recorded in, at most
 * `flushMs` later, or when `flush`/`close` is called; a failed write is reported to `onError` and
 * its samples dropped (never retried, so never counted twice). A process killed with SIGKILL loses
 * at most the samples of its last `flushMs`.
 */
export class BufferedMetrics implements MetricsRecorder {
  private pending: { samples: readonly MetricSample[]; at: number }[] = [];
  private pendingCount = 0;
  private timer: NodeJS.Timeout | null = null;
  private writing: Promise<void> = Promise.resolve();
  private closed = false;
  private readonly now: () => number;

  constructor(
    private readonly writer: Pick<ClusterMetricsWriter, 'record'>,
    private readonly options: BufferedMetricsOptions = {},
  ) {
    this.now = options.now ?? Date.now;
  }

  async record(samples: readonly MetricSample[]): Promise<void> {
    if (samples.length === 0) return;
    this.pending.push({ samples, at: this.now() });
    this.pendingCount += samples.length;
    if (this.closed || this.pendingCount >= (this.options.maxPending ?? 5_000)) void this.flush();
    else this.timer ??= setTimeout(() => void this.flush(), this.options.flushMs ?? 200);
  }

  /** Writes everything recorded so far; resolves when it is written (or dropped after a failure). */
  flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const batch = this.pending;
    this.pending = [];
    this.pendingCount = 0;
    // One write at a time, so batches land in order.
    this.writing = this.writing.then(() => this.write(batch));
    return this.writing;
  }

  /** Flushes, and from now on writes every sample at once. */
  async close(): Promise<void> {
    this.closed = true;
    await this.flush();
  }

  private async write(batch: { samples: readonly MetricSample[]; at: number }[]): Promise<void> {
    // One MULTI per recent-window minute in the batch (one, or two across a minute boundary).
    let i = 0;
    while (i < batch.length) {
      const minute = Math.floor(batch[i]!.at / 60_000);
      const samples: MetricSample[] = [];
      const at = batch[i]!.at;
      while (i < batch.length && Math.floor(batch[i]!.at / 60_000) === minute) samples.push(...batch[i++]!.samples);
      try {
        await this.writer.record(samples, at);
      } catch (error) {
        this.options.onError?.(error, samples.length);
      }
    }
  }
}
