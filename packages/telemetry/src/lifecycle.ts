/** Stops an app: finish or hand back in-flight work, close connections. Called at most once. */
export type StopApp = (signal: NodeJS.Signals) => Promise<void>;

/** What an app's `main` returns: how to stop it and how long its drain may take. */
export interface RunningApp {
  stop: StopApp;
  /** The drain time the app gives in-flight work (its `SHUTDOWN_GRACE_MS`). */
  shutdownGraceMs: number;
}

/** Drain time assumed for an app whose `main` returns only a {@link StopApp} (the worker's default). */
export const DEFAULT_SHUTDOWN_GRACE_MS = 25_000;

/**
 * Time a stop may take beyond the drain: closing queues, flushing metrics, closing connections.
 * Those awaits have no timeout of their own, and with Redis or MongoDB gone they never settle: a trial
 * run left workers alive for over 30 minutes after SIGTERM, and outside compose nothing kills them.
 */
export const SHUTDOWN_CLOSE_MS = 5_000;

/**
 * Runs an app's `main`, which starts everything and returns how to stop it.
 * Guarantees: a start failure prints one line to stderr — the configuration problems as they are
 * (they name variables, never values), otherwise only the error's class and message — and exits 1;
 * the first SIGTERM or SIGINT calls `stop` once and exits 0 when it resolves (1 if it throws);
 * if `stop` has not settled within the drain time plus {@link SHUTDOWN_CLOSE_MS}, the process prints
 * one line to stderr and exits 1 whatever is still pending; further signals are ignored while stopping.
 */
export function runApp(app: string, main: () => Promise<StopApp | RunningApp>): void {
  main().then(
    (started) => {
      const { stop, shutdownGraceMs } = typeof started === 'function' ? { stop: started, shutdownGraceMs: DEFAULT_SHUTDOWN_GRACE_MS } : started;
      let stopping = false;
      const onSignal = (signal: NodeJS.Signals) => {
        if (stopping) return;
        stopping = true;
        const deadlineMs = shutdownGraceMs + SHUTDOWN_CLOSE_MS;
        // Not unref'd: a stop stuck on a promise nothing will settle must still end in exit 1.
        setTimeout(() => {
          console.error(`${app}: stop did not finish within ${deadlineMs} ms of ${signal}; exiting`);
          process.exit(1);
        }, deadlineMs);
        stop(signal).then(
          () => process.exit(0),
          () => process.exit(1),
        );
      };
      process.on('SIGTERM', onSignal);
      process.on('SIGINT', onSignal);
    },
    (error: unknown) => {
      const isConfig = error instanceof Error && error.name === 'ConfigError';
      if (isConfig) console.error(error.message);
      else console.error(`${app} failed to start: ${error instanceof Error ? `${error.name}: ${error.message}` : typeof error}`);
      process.exit(1);
    },
  );
}
