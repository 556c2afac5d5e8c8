/**
 * Telegram's side of a webhook, emulated for load benchmarks: updates are POSTed to the URL the bot
 * registered with setWebhook (read from the Bot API sink), with its secret token header, over at most
 * `max_connections` simultaneous connections (Telegram's default 40), and redelivered after a failed
 * attempt (any status other than 2xx, a network error or no answer within the timeout), as the Bot
 * API documents: "we will repeat the request and give up after a reasonable amount of attempts".
 *
 * What Telegram does not document (the retry schedule, the answer timeout) is a parameter here;
 * the defaults are stated in bench/README.md. Both systems under test get the same emulation.
 */
import { Agent, request } from 'node:http';
import type { WebhookRegistration } from './bot-api-sink';

/** One update on its way to the bot, with the times the report needs. */
export interface Delivery {
  readonly updateId: number;
  readonly body: string;
  /** When the person sent it (the update exists at Telegram); epoch ms. */
  readonly createdAt: number;
  /** Start of the first POST; undefined while it waits for a free connection. */
  firstPostAt?: number;
  /** When a POST was answered with 2xx; undefined until then. */
  deliveredAt?: number;
  attempts: number;
  /** Outcome of the last failed attempt: an HTTP status, 'timeout' or 'network'. */
  lastFailure?: number | 'timeout' | 'network';
}

export interface WebhookDeliveryOptions {
  /** Where to deliver: the current registration (null: nothing registered yet, deliveries wait). */
  target(): WebhookRegistration | null;
  /** Overrides the registered max_connections (e.g. to test Telegram's maximum of 100). */
  maxConnections?: number;
  /** A POST not answered within this long counts as failed and is redelivered. */
  timeoutMs: number;
  /** First redelivery after this long, doubling per failed attempt of the same update, capped at `retryMaxMs`. */
  retryFirstMs: number;
  retryMaxMs: number;
}

export interface DeliveryStats {
  queued: number;
  inFlight: number;
  delivered: number;
  failedAttempts: number;
  /** Failed attempts by outcome (HTTP status, 'timeout', 'network'). */
  failures: Record<string, number>;
}

/**
 * The delivery queue. Guarantees: every pushed update is POSTed until one attempt gets a 2xx or
 * `close()` is called; never more than the connection limit at once; first attempts in push order.
 */
export class WebhookDelivery {
  private readonly queue: Delivery[] = [];
  private head = 0;
  private inFlight = 0;
  private delivered = 0;
  private failedAttempts = 0;
  private readonly failures: Record<string, number> = {};
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly agent: Agent;
  private waitingForTarget: NodeJS.Timeout | null = null;
  private closed = false;

  constructor(private readonly options: WebhookDeliveryOptions) {
    // Sockets are reused like Telegram's persistent connections; the limit itself is enforced by `pump`.
    this.agent = new Agent({ keepAlive: true, maxSockets: 100 });
  }

  /** Queues an update; `createdAt` is when the person sent it. */
  push(update: { update_id: number }, createdAt: number): Delivery {
    const delivery: Delivery = { updateId: update.update_id, body: JSON.stringify(update), createdAt, attempts: 0 };
    this.enqueue(delivery);
    return delivery;
  }

  stats(): DeliveryStats {
    return { queued: this.queue.length - this.head, inFlight: this.inFlight, delivered: this.delivered, failedAttempts: this.failedAttempts, failures: { ...this.failures } };
  }

  /** Stops all deliveries and retries; in-flight requests are abandoned. */
  close(): void {
    this.closed = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    if (this.waitingForTarget) clearTimeout(this.waitingForTarget);
    this.agent.destroy();
  }

  private enqueue(delivery: Delivery): void {
    this.queue.push(delivery);
    this.pump();
  }

  private limit(target: WebhookRegistration): number {
    return this.options.maxConnections ?? target.maxConnections;
  }

  private pump(): void {
    if (this.closed) return;
    const target = this.options.target();
    if (!target) {
      this.waitingForTarget ??= setTimeout(() => {
        this.waitingForTarget = null;
        this.pump();
      }, 50);
      return;
    }
    while (this.inFlight < this.limit(target) && this.head < this.queue.length) {
      const delivery = this.queue[this.head]!;
      this.head += 1;
      this.post(delivery, target);
    }
    // Keep the array from growing without bound over a long run.
    if (this.head > 10_000 && this.head * 2 > this.queue.length) {
      this.queue.splice(0, this.head);
      this.head = 0;
    }
  }

  private post(delivery: Delivery, target: WebhookRegistration): void {
    this.inFlight += 1;
    delivery.attempts += 1;
    delivery.firstPostAt ??= Date.now();
    let settled = false;
    const finish = (failure?: number | 'timeout' | 'network') => {
      if (settled) return;
      settled = true;
      this.inFlight -= 1;
      if (failure === undefined) {
        delivery.deliveredAt = Date.now();
        this.delivered += 1;
      } else {
        delivery.lastFailure = failure;
        this.failedAttempts += 1;
        this.failures[String(failure)] = (this.failures[String(failure)] ?? 0) + 1;
        this.retryLater(delivery);
      }
      this.pump();
    };
    const url = new URL(target.url);
    const req = request(
      {
        host: url.hostname,
        port: url.port,
        path: url.pathname + url.search,
        method: 'POST',
        agent: this.agent,
        headers: {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(delivery.body),
          ...(target.secretToken !== null && { 'x-telegram-bot-api-secret-token': target.secretToken }),
        },
      },
      (res) => {
        res.resume();
        res.once('end', () => finish(res.statusCode !== undefined && res.statusCode >= 200 && res.statusCode < 300 ? undefined : (res.statusCode ?? 'network')));
        res.once('error', () => finish('network'));
      },
    );
    req.setTimeout(this.options.timeoutMs, () => {
      req.destroy();
      finish('timeout');
    });
    req.once('error', () => finish('network'));
    req.end(delivery.body);
  }

  private retryLater(delivery: Delivery): void {
    if (this.closed) return;
    const wait = Math.min(this.options.retryMaxMs, this.options.retryFirstMs * 2 ** Math.max(0, delivery.attempts - 1));
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      this.enqueue(delivery);
    }, wait);
    this.timers.add(timer);
  }
}
