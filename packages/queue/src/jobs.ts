import { z } from 'zod';

/**
 * A Telegram update as the queue carries it. We check only what routing needs (`update_id`);
 * the rest is Telegram's shape and is interpreted by the worker's Telegram adapter.
 */
export const telegramUpdateSchema = z.looseObject({
  update_id: z.number().int().nonnegative(),
});
export type TelegramUpdatePayload = z.infer<typeof telegramUpdateSchema>;

/**
 * Job data of QUEUE_NAMES.updates: a trigger saying "this chat has updates in its inbox". The
 * updates themselves wait in the chat's inbox (ChatInbox), in Telegram's order; whichever job holds
 * the chat's lock handles them from the head. So jobs may run in any order, twice, or not at all
 * when another job of the same chat got there first, without reordering or losing anything.
 */
export const drainJobSchema = z.object({
  /** The chat key (chatKeyOf). */
  chat: z.string().min(1).max(64),
  /** The update whose arrival queued this job; absent for continuations and sweeps. */
  updateId: z.number().int().nonnegative().optional(),
  /** Correlation id of that update. */
  traceId: z.string().min(1).max(64).optional(),
});
export type DrainJob = z.infer<typeof drainJobSchema>;

/** Raised when job data does not match its schema: such a job can never succeed, so it is not retried. */
export class InvalidJobError extends Error {
  override readonly name = 'InvalidJobError';
  constructor(
    readonly queue: string,
    readonly problems: string,
  ) {
    super(`Invalid job data for ${queue}: ${problems}`);
  }
}

/**
 * Raised for an update that passed the schema but cannot be stored: JSON nested so deeply that
 * serialising it overflows the stack. Storing it again can never succeed, so it is a bad body
 * (answered 400), not an outage (503, after which Telegram would redeliver it forever).
 */
export class UnstorableUpdateError extends Error {
  override readonly name = 'UnstorableUpdateError';
  constructor(
    readonly updateId: number,
    options?: ErrorOptions,
  ) {
    super(`Update ${updateId} cannot be serialised for storage`, options);
  }
}

/** Parses job data for `queue` with `schema`; throws InvalidJobError (naming fields, not values) on mismatch. */
export function parseJob<S extends z.ZodType>(queue: string, schema: S, data: unknown): z.infer<S> {
  const result = schema.safeParse(data);
  if (result.success) return result.data;
  throw new InvalidJobError(queue, result.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; '));
}
