import { BotError, GrammyError, HttpError, type Bot } from 'grammy';
import type { Update } from 'grammy/types';
import { TurnDeferredError } from '@inner-talk/conversation';
import { AllProvidersUnavailableError } from '@inner-talk/gateway';
import type { ChatInbox, InboxEntry } from '@inner-talk/queue';
import { isStorageUnavailable } from '@inner-talk/storage';
import { METRICS, type ActivePeople, type MetricsRecorder, type Logger, type MetricSample } from '@inner-talk/telemetry';
import type { UpdateReport } from './bot';
import { turnLength, turnUpdate, type CoalescePolicy } from './coalesce';
import { TelegramCooldownError } from './outbound';
import { runInTurn } from './turn-context';

export interface DrainPolicy {
  /** Lease of a chat's drain lock; renewed every third of it while a turn runs. */
  leaseMs: number;
  /** Failed attempts at one update before it becomes a dead letter and the chat moves on. */
  maxAttempts: number;
  /** Turns one job handles before handing the chat over to a new job (fairness between chats). */
  maxTurnsPerJob: number;
  /** Backoff before the next attempt after a failure: base × 2^(attempt − 1), capped. */
  retryBaseMs: number;
  retryMaxMs: number;
  coalesce: CoalescePolicy;
}

export interface DrainDeps {
  bot: Bot;
  inbox: ChatInbox;
  reports: Map<number, UpdateReport>;
  metrics: MetricsRecorder;
  logger: Logger;
  policy: DrainPolicy;
  /** Wraps the handling of one turn (e.g. the delivery ledger that makes replies once-only). */
  runTurn<T>(chat: string, turnKey: string, handle: () => Promise<T>): Promise<T>;
  /** Redis keys of a turn (under the chat's key prefix) to delete once it is done, e.g. its ledger. */
  turnKeys?(chat: string, turnKey: string): string[];
  /** Tells the person, kindly, that a message could not be answered (after every attempt failed). */
  notifyDeadLetter(entry: InboxEntry): Promise<void>;
  /** Counts the people who wrote recently (innertalk_active_people); none in most unit tests. */
  activePeople?: ActivePeople;
  /** True once the process is shutting down: finish the current turn, then hand over. */
  isClosing(): boolean;
  now?: () => number;
}

/** How a drain ended. The processor maps it onto BullMQ. */
export type DrainOutcome =
  /** Another job holds the chat; it will find this job's update in the inbox. */
  | { kind: 'merged' }
  /** Nothing left; the lock is released. */
  | { kind: 'drained'; turns: number }
  /** This job did its share (or the process is closing); a new job continues the chat. */
  | { kind: 'handover'; turns: number }
  /**
   * The head must wait: every provider or the database is unavailable, the crisis check could not
   * run, or a retry is due. The lock is kept until then.
   */
  | { kind: 'retry_at'; at: number; reason: 'providers_unavailable' | 'storage_unavailable' | 'safety_unchecked' | 'telegram_cooldown' | 'failed' }
  /** The lock expired under us (e.g. a long stall); whoever took it continues. */
  | { kind: 'lost_lock'; turns: number };

/**
 * Drains one chat's inbox in order: takes the chat's lock (or learns that another job holds it),
 * then handles turns from the head — one update, or several rapid texts merged — and removes each
 * only after it was handled. This is what makes per-chat order hold across any number of workers:
 * whatever job runs, it starts at the head.
 *
 * Failures never let later updates overtake: the head is retried with backoff (lock kept), and
 * after `maxAttempts` it becomes a dead letter, the person is told, and the chat moves on. Waiting
 * that says nothing about the update (every provider unavailable, the database unreachable, a
 * deferred turn: the crisis check could not run) uses up no attempts.
 * A recipient who blocked the bot (403) is not retried.
 */
export class ChatDrainer {
  private readonly now: () => number;

  constructor(private readonly deps: DrainDeps) {
    this.now = deps.now ?? Date.now;
  }

  async drain(chat: string, owner: string): Promise<DrainOutcome> {
    const { inbox, policy } = this.deps;
    if (!(await inbox.acquire(chat, owner, policy.leaseMs))) return { kind: 'merged' };
    let turns = 0;
    while (turns < policy.maxTurnsPerJob && !this.deps.isClosing()) {
      // Renew before every turn, not only during long ones: a job draining many short turns would
      // otherwise outlive its lease, and another job would start the turn at the head a second time.
      if (turns > 0 && !(await inbox.acquire(chat, owner, policy.leaseMs))) return { kind: 'lost_lock', turns };
      const waiting = await inbox.peek(chat, policy.coalesce.maxMessages);
      if (waiting.length === 0) {
        const released = await inbox.release(chat, owner, 'if_empty');
        if (released === 'not_empty') continue;
        return released === 'released' ? { kind: 'drained', turns } : { kind: 'lost_lock', turns };
      }
      const head = waiting[0]!;
      const size = await inbox.turnSize(chat, head.updateId, turnLength(waiting, policy.coalesce));
      const entries = waiting.slice(0, size);
      const failure = await this.handleTurn(chat, owner, entries);
      if (failure) return failure;
      turns += 1;
      const turnKeys = [...(this.deps.turnKeys?.(chat, `u${head.updateId}`) ?? []), inbox.deferralsKey(chat, head.updateId)];
      const done = await inbox.done(chat, owner, head.updateId, entries.length, true, turnKeys);
      if (done.kind === 'lost_lock') return { kind: 'lost_lock', turns };
      if (done.kind === 'left' && done.left === 0) return { kind: 'drained', turns };
    }
    return { kind: 'handover', turns };
  }

  /** Lets the chat go after a hand-over job was queued. */
  async handOver(chat: string, owner: string): Promise<void> {
    await this.deps.inbox.release(chat, owner, 'always');
  }

  /** Handles one turn; returns an outcome only when draining must stop here. */
  private async handleTurn(chat: string, owner: string, entries: InboxEntry[]): Promise<DrainOutcome | null> {
    const { inbox, policy, logger } = this.deps;
    const head = entries[0]!;
    const log = logger.child({ traceId: head.traceId, updateId: head.updateId, messages: entries.length });
    const report: UpdateReport = { repliesSent: 0, waitNoticeSent: false };
    this.deps.reports.set(head.updateId, report);
    if (entries.some((e) => e.unreadable)) log.error({ unreadable: entries.filter((e) => e.unreadable).map((e) => e.updateId) }, 'queued update does not open (its key left the ring?); skipped');
    const startedAt = this.now();
    // The lock must outlive the turn however long the model takes.
    const renew = setInterval(() => void inbox.acquire(chat, owner, policy.leaseMs).catch(() => undefined), Math.max(100, policy.leaseMs / 3));
    let outcome = 'ok';
    // Counted when the turn starts, not after it: a turn that runs /forget removes the person from
    // the gauge, and must not add them back once it is done.
    await this.deps.activePeople?.touch(chat);
    try {
      await runInTurn(head.receivedAt, () => this.deps.runTurn(chat, `u${head.updateId}`, () => this.deps.bot.handleUpdate(turnUpdate(entries) as unknown as Update)));
      return null;
    } catch (error) {
      const cause = unwrap(error);
      if (cause instanceof TurnDeferredError) {
        // The person already heard what they need now (the contacts, or the crisis reply); the
        // message itself waits for the crisis check or the database, attempts untouched.
        outcome = 'delayed';
        const at = Math.max(cause.retryAt ?? this.now() + (await this.deferralBackoff(chat, head.updateId, cause)), this.now() + 100);
        await inbox.acquire(chat, owner, at - this.now() + policy.leaseMs);
        log.warn({ reason: cause.reason, err: describe(cause.cause) }, 'turn deferred; chat waits');
        return { kind: 'retry_at', at, reason: cause.reason };
      }
      if (cause instanceof AllProvidersUnavailableError) {
        // Not a failure of the update: wait for the earliest provider, attempts untouched.
        outcome = 'delayed';
        const at = Math.max(cause.retryAt, this.now() + 100);
        await inbox.acquire(chat, owner, at - this.now() + policy.leaseMs);
        log.warn({ retryAt: cause.retryAt, skips: cause.skips }, 'every LLM provider unavailable; chat waits');
        return { kind: 'retry_at', at, reason: 'providers_unavailable' };
      }
      if (isStorageUnavailable(cause)) {
        // MongoDB cannot be reached: that says nothing about the update, and counting it would
        // dead-letter the head of every busy chat during an outage of half a minute (each attempt
        // spends the driver's server-selection timeout). Wait, attempts untouched, like for the LLM.
        outcome = 'delayed';
        const at = this.now() + policy.retryBaseMs;
        await inbox.acquire(chat, owner, policy.retryBaseMs + policy.leaseMs);
        log.warn({ err: describe(cause) }, 'storage unavailable; chat waits');
        return { kind: 'retry_at', at, reason: 'storage_unavailable' };
      }
      if (cause instanceof TelegramCooldownError) {
        // Telegram asked this chat to slow down for longer than a turn may wait: come back then.
        outcome = 'delayed';
        await inbox.acquire(chat, owner, cause.until - this.now() + policy.leaseMs);
        return { kind: 'retry_at', at: cause.until, reason: 'telegram_cooldown' };
      }
      if (cause instanceof GrammyError && cause.error_code === 403) {
        // Blocked by the user (or kicked): retrying cannot help and the chat must not stall.
        outcome = 'recipient_gone';
        log.warn({ err: describe(cause) }, 'recipient blocked the bot; update dropped');
        return null;
      }
      outcome = 'error';
      const attempts = await inbox.recordFailure(chat, head.updateId);
      log.warn({ err: describe(cause), attempts }, 'update failed');
      if (attempts >= policy.maxAttempts) {
        outcome = 'dead_letter';
        await inbox.deadLetter({ chat, updateIds: entries.map((e) => e.updateId), error: describe(cause), attempts, at: this.now() });
        await this.deps.notifyDeadLetter(head).catch((err: unknown) => log.warn({ err: describe(err) }, 'could not tell the person about the dead letter'));
        log.error({ attempts }, 'update moved to dead letters; chat moves on');
        return null;
      }
      const backoff = Math.min(policy.retryMaxMs, policy.retryBaseMs * 2 ** (attempts - 1));
      await inbox.acquire(chat, owner, backoff + policy.leaseMs);
      return { kind: 'retry_at', at: this.now() + backoff, reason: 'failed' };
    } finally {
      clearInterval(renew);
      this.deps.reports.delete(head.updateId);
      await this.record(entries, report, outcome, startedAt, log);
    }
  }

  /**
   * How long a deferred turn waits when nothing says when to come back. Storage: the base backoff
   * (a crisis text waits for its risk event; the database is usually back soon). A crisis check that
   * failed on its own (a provider error or timeout on this message, with no time to come back given)
   * may fail again: the wait grows like a failure's backoff, so such a
   * message is asked at most every `retryMaxMs`, but never becomes a dead letter (the person already
   * has the contacts and was told an answer follows). Failures that would repeat for ever (a
   * refusal, an unreadable answer) never get here: the crisis check fails closed on them at once.
   */
  private async deferralBackoff(chat: string, updateId: number, cause: TurnDeferredError): Promise<number> {
    const { policy } = this.deps;
    if (cause.reason !== 'safety_unchecked') return policy.retryBaseMs;
    const deferrals = await this.deps.inbox.recordDeferral(chat, updateId);
    return Math.min(policy.retryMaxMs, policy.retryBaseMs * 2 ** (deferrals - 1));
  }

  private async record(entries: InboxEntry[], report: UpdateReport, outcome: string, startedAt: number, log: Logger): Promise<void> {
    const finishedAt = this.now();
    const samples: MetricSample[] = [
      { spec: METRICS.processing, labels: { outcome }, valueMs: finishedAt - startedAt },
      { spec: METRICS.updatesProcessed, labels: { outcome } },
    ];
    for (const entry of entries) {
      samples.push({ spec: METRICS.queueWait, valueMs: startedAt - entry.receivedAt });
      if (outcome === 'ok' && report.repliesSent > 0) {
        samples.push({ spec: METRICS.replyLatency, labels: { kind: 'message' }, valueMs: finishedAt - entry.receivedAt });
      }
    }
    if (report.waitNoticeSent) samples.push({ spec: METRICS.waitNotices });
    if (entries.length > 1) samples.push({ spec: METRICS.coalescedMessages, by: entries.length });
    // Metrics never fail a turn that already reached the person.
    await this.deps.metrics.record(samples).catch((err: unknown) => log.warn({ err: describe(err) }, 'metrics write failed'));
    log.info({ outcome, replies: report.repliesSent, ms: finishedAt - startedAt }, 'update handled');
  }
}

/** grammY wraps middleware errors in BotError and failed API calls in HttpError; the cause decides. */
export function unwrap(error: unknown): unknown {
  let cause = error;
  while (cause instanceof BotError || cause instanceof HttpError) cause = cause.error;
  return cause;
}

/** Error summary safe for logs: class, name and status only — messages may quote user text. */
export function describe(error: unknown): Record<string, unknown> {
  if (!(error instanceof Error)) return { type: typeof error };
  const extra = error as Error & { kind?: string; status?: number; error_code?: number; provider?: string };
  return { type: error.constructor.name, name: error.name, kind: extra.kind, status: extra.status ?? extra.error_code, provider: extra.provider };
}
