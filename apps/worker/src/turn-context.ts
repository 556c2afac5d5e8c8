import { AsyncLocalStorage } from 'node:async_hooks';

/** What the code running inside one turn may need to know about the message(s) it answers. */
interface TurnContext {
  /** When the ingress received the turn's first message (ms since epoch). */
  receivedAt: number;
}

const turns = new AsyncLocalStorage<TurnContext>();

/** Runs `handle` as a turn whose first message arrived at `receivedAt` (see {@link turnReceivedAt}). */
export function runInTurn<T>(receivedAt: number, handle: () => Promise<T>): Promise<T> {
  return turns.run({ receivedAt }, handle);
}

/**
 * When the message of the turn being handled reached the ingress, or undefined outside a turn.
 * A turn can run long after its message arrived (a backlog after an outage, a retry), so anything
 * about the person's own pace must use this time, not the time of handling.
 */
export function turnReceivedAt(): number | undefined {
  return turns.getStore()?.receivedAt;
}
