/** What every benchmark script shares: output, waiting, the mocks' reply text, the exit protocol. */

/** Waits `ms` (negative counts as 0). */
export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, Math.max(0, ms)));

/** One progress line on stdout (the last line a benchmark prints is its JSON result). */
export const out = (s = '') => process.stdout.write(`${s}\n`);

/** The mock LLM's answer to a message: each reply names its message exactly. */
export const expectedReply = (text: string) => `Mock reply to: ${text}`;

/** A message an emulated person sent. */
export interface SentMessage {
  n: number;
  chatId: number;
  text: string;
  sentAt: number;
  updateId?: number;
  sendError?: string;
}

/** A bot message the emulated Telegram accepted. */
export interface ReceivedReply {
  chatId: number;
  text: string;
  at: number;
}

/**
 * Runs a benchmark's `main` and exits: with the code `main` returns (0 when it returns nothing), or
 * 1 with the error on stderr. Benchmarks exit explicitly because servers they started may keep
 * handles open.
 */
export function runBench(name: string, main: () => Promise<number | void>): void {
  main().then(
    (code) => process.exit(code ?? 0),
    (error: unknown) => {
      console.error(`${name} failed:`, error);
      process.exit(1);
    },
  );
}
