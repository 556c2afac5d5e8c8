/**
 * Our own per-call timer. The adapters abort the SDK call through its signal, and decide "timeout" by
 * whether this timer fired — not by the error the SDK chose to throw — so the kind is exact.
 */
export class Deadline {
  private readonly controller = new AbortController();
  private readonly timer: NodeJS.Timeout;
  private fired = false;

  constructor(readonly timeoutMs: number) {
    this.timer = setTimeout(() => {
      this.fired = true;
      this.controller.abort(new Error(`deadline of ${timeoutMs} ms exceeded`));
    }, timeoutMs);
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** True once the timer fired (the call was aborted because of it). */
  get expired(): boolean {
    return this.fired;
  }

  /** Stops the timer; call when the call settles so no timer outlives it. */
  dispose(): void {
    clearTimeout(this.timer);
  }
}
