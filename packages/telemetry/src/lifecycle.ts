/** Stops an app: finish or hand back in-flight work, close connections. Called at most once. */
export type StopApp = (signal: NodeJS.Signals) => Promise<void>;

/**
 * Runs an app's `main`, which starts everything and returns how to stop it.
 * Guarantees: a start failure prints one line to stderr — the configuration problems as they are
 * (they name variables, never values), otherwise only the error's class and message — and exits 1;
 * the first SIGTERM or SIGINT calls `stop` once and exits 0 when it resolves (1 if it throws);
 * further signals are ignored while stopping.
 */
export function runApp(app: string, main: () => Promise<StopApp>): void {
  main().then(
    (stop) => {
      let stopping = false;
      const onSignal = (signal: NodeJS.Signals) => {
        if (stopping) return;
        stopping = true;
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
