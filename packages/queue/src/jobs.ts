import { z } from 'zod';

/**
 * A Telegram update as the queue carries it. We check only what routing needs (`update_id`);
 * the rest is Telegram's shape and is interpreted by the worker's Telegram adapter.
 */
export const telegramUpdateSchema = z.looseObject({
  update_id: z.number().int().nonnegative(),
});
export type TelegramUpdatePayload = z.infer<typeof telegramUpdateSchema>;

/** Job data of QUEUE_NAMES.updates. */
export const updateJobSchema = z.object({
  update: telegramUpdateSchema,
  /** When the ingress received the update (ms since epoch); the start of end-to-end latency. */
  receivedAt: z.number().int().positive(),
  /** Correlation id carried through ingress and worker logs. */
  traceId: z.string().min(1).max(64),
});
export type UpdateJob = z.infer<typeof updateJobSchema>;

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

/** Parses job data for `queue` with `schema`; throws InvalidJobError (naming fields, not values) on mismatch. */
export function parseJob<S extends z.ZodType>(queue: string, schema: S, data: unknown): z.infer<S> {
  const result = schema.safeParse(data);
  if (result.success) return result.data;
  throw new InvalidJobError(queue, result.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; '));
}
