/**
 * Every BullMQ queue of the system, in one place. Producers and consumers import these names;
 * a queue name never appears as a string literal elsewhere.
 */
export const QUEUE_NAMES = {
  /** Telegram updates accepted by the ingress, processed by the workers. */
  updates: 'telegram-updates',
} as const;

export type QueueName = (typeof QUEUE_NAMES)[keyof typeof QUEUE_NAMES];
