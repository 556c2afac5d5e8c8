import type { Redis, RedisOptions } from 'ioredis';
import type { BreakerState, BreakerTransition, BreakerTransitionReason, BreakerView } from './breaker-types';

export interface BreakerWatcherOptions {
  /** The watcher opens its own subscriber connection with `redis.duplicate()` (and closes it in `close`). */
  redis: Redis;
  /** Key prefix shared by all processes; the channel is `<prefix>:breaker:events`. */
  prefix: string;
  /**
   * How long a cached state may answer without asking Redis. Default 100 ms. Pub/sub normally
   * delivers a transition within milliseconds; this bounds how long a missed message can mislead.
   */
  cacheTtlMs?: number;
  /** Told about subscriber connection errors (the watcher keeps reconnecting). Must not throw. */
  onError?: (error: Error) => void;
}

/** Listener of {@link BreakerWatcher.onEvent}: a transition published by any process, and when this process received it. */
export type BreakerEventListener = (event: BreakerTransition, receivedAt: number) => void;

/** The pub/sub channel on which every cluster-wide transition is published (inside the Lua script that makes it). */
export function breakerEventsChannel(prefix: string): string {
  return `${prefix}:breaker:events`;
}

const STATES: ReadonlySet<string> = new Set<BreakerState>(['closed', 'open', 'half_open']);

/** Parses a published transition; undefined for anything that is not one. */
export function parseBreakerEvent(message: string): BreakerTransition | undefined {
  let raw: Record<string, unknown>;
  try {
    raw = JSON.parse(message) as Record<string, unknown>;
  } catch {
    return undefined;
  }
  if (typeof raw.id !== 'string' || !STATES.has(String(raw.from)) || !STATES.has(String(raw.to))) return undefined;
  return {
    id: raw.id,
    from: raw.from as BreakerState,
    to: raw.to as BreakerState,
    at: Number(raw.at),
    reason: String(raw.reason) as BreakerTransitionReason,
    seq: Number(raw.seq),
    openUntil: Number(raw.openUntil),
    leaseUntil: Number(raw.leaseUntil),
    source: 'redis',
  };
}

/**
 * One per process: subscribes to `<prefix>:breaker:events` on its own connection and keeps the latest
 * known state of every breaker in memory, so `CircuitBreaker.acquire` can answer from memory.
 *
 * Guarantees:
 * - A transition made by any process reaches this cache as soon as Redis delivers the message
 *   (PUBLISH happens inside the script that makes the transition); measured at a few ms locally.
 * - Older news never overwrites newer: views carry the transition sequence number.
 * - `state(id)` answers only while subscribed and only for views younger than `cacheTtlMs`; after a
 *   disconnect everything cached before is treated as stale (messages may have been missed), so a
 *   missed message misleads for at most `cacheTtlMs`.
 * - Never throws for Redis problems; reconnects and resubscribes by itself.
 */
export class BreakerWatcher {
  readonly channel: string;
  private readonly subscriber: Redis;
  private readonly ttlMs: number;
  private readonly views = new Map<string, BreakerView>();
  private readonly listeners = new Set<BreakerEventListener>();
  private subscribed = false;
  private staleBefore = 0;
  private closed = false;
  private readonly waiters = new Set<() => void>();

  constructor(private readonly options: BreakerWatcherOptions) {
    this.channel = breakerEventsChannel(options.prefix);
    this.ttlMs = options.cacheTtlMs ?? 100;
    const overrides: Partial<RedisOptions> = {
      lazyConnect: true,
      enableOfflineQueue: false,
      autoResubscribe: false, // we resubscribe on 'ready' ourselves, and mark the cache stale then
      maxRetriesPerRequest: 0,
      autoResendUnfulfilledCommands: false,
      connectTimeout: 1_000,
      retryStrategy: (times: number) => Math.min(50 * times, 1_000),
    };
    this.subscriber = options.redis.duplicate(overrides) as Redis;
    this.subscriber.on('error', (error: Error) => {
      try {
        this.options.onError?.(error);
      } catch {
        // reporting must not break the watcher
      }
    });
    this.subscriber.on('ready', () => void this.subscribe());
    this.subscriber.on('close', () => {
      this.subscribed = false;
      this.staleBefore = Date.now();
    });
    this.subscriber.on('message', (channel: string, message: string) => {
      if (channel === this.channel) this.receive(message);
    });
  }

  /** Whether the subscription is active (cached states are only served while it is). */
  get live(): boolean {
    return this.subscribed && !this.closed;
  }

  /**
   * Connects and subscribes. Resolves `true` once subscribed, `false` if that did not happen within
   * `timeoutMs` (Redis away): the watcher keeps trying in the background and never throws.
   */
  async start(timeoutMs = 2_000): Promise<boolean> {
    if (this.subscriber.status === 'wait') this.subscriber.connect().catch(() => undefined);
    if (this.live) return true;
    return new Promise<boolean>((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.waiters.delete(done);
        resolve(this.live);
      };
      const timer = setTimeout(done, timeoutMs);
      this.waiters.add(done);
    });
  }

  /** The cached view of breaker `id` if it may be trusted now (subscribed, younger than `cacheTtlMs`). */
  state(id: string): BreakerView | undefined {
    if (!this.live) return undefined;
    const view = this.views.get(id);
    if (!view || view.observedAt < this.staleBefore || Date.now() - view.observedAt > this.ttlMs) return undefined;
    return view;
  }

  /** The newest view of `id` this process has, however old (seeds the local fallback breaker). */
  lastKnown(id: string): BreakerView | undefined {
    return this.views.get(id);
  }

  /** Feeds a view learned from a script reply (used by CircuitBreaker); ignored if older than the cached one. */
  observe(id: string, view: BreakerView): void {
    const known = this.views.get(id);
    if (known && known.seq > view.seq) return;
    this.views.set(id, view);
    if (this.views.size > 50_000) this.prune();
  }

  /** Calls `listener` for every transition published by any process. Returns a function that removes it. */
  onEvent(listener: BreakerEventListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Unsubscribes and closes the subscriber connection (within ~200 ms even if Redis is away). */
  async close(): Promise<void> {
    this.closed = true;
    for (const waiter of [...this.waiters]) waiter();
    try {
      await Promise.race([this.subscriber.quit(), new Promise((resolve) => setTimeout(resolve, 200))]);
    } catch {
      // not connected: nothing to quit
    } finally {
      this.subscriber.disconnect();
    }
  }

  private async subscribe(): Promise<void> {
    if (this.closed) return;
    try {
      await this.subscriber.subscribe(this.channel);
      // Whatever happened while we were not subscribed was not heard: distrust older views.
      this.staleBefore = Date.now();
      this.subscribed = true;
      for (const waiter of [...this.waiters]) waiter();
    } catch {
      // The connection dropped again; the next 'ready' retries.
    }
  }

  private receive(message: string): void {
    const receivedAt = Date.now();
    const event = parseBreakerEvent(message);
    if (!event) return;
    const known = this.views.get(event.id);
    if (!known || known.seq <= event.seq) {
      this.views.set(event.id, {
        state: event.to,
        openUntil: event.openUntil > 0 ? receivedAt + (event.openUntil - event.at) : 0,
        leaseUntil: event.leaseUntil > 0 ? receivedAt + (event.leaseUntil - event.at) : 0,
        seq: event.seq,
        observedAt: receivedAt,
      });
    }
    for (const listener of [...this.listeners]) {
      try {
        listener(event, receivedAt);
      } catch {
        // one listener's bug must not stop the others or the cache
      }
    }
  }

  private prune(): void {
    const cutoff = Date.now() - 3_600_000;
    for (const [id, view] of this.views) if (view.observedAt < cutoff && view.state === 'closed') this.views.delete(id);
  }
}
