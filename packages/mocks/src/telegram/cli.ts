/**
 * Runs the Telegram Bot API emulator as a process (local demo, manual tests, benchmarks):
 *
 *   pnpm exec tsx packages/mocks/src/telegram/cli.ts [--port N] [--host H]
 *
 * Prints one JSON line when ready — {"apiRoot":"http://127.0.0.1:N","url":...,"port":N,"pid":P} —
 * and exits 0 on SIGTERM or SIGINT after closing the server.
 */
import { startTelegramEmulator } from './emulator';

function argValue(name: string): string | undefined {
  const args = process.argv.slice(2);
  const index = args.indexOf(name);
  if (index >= 0) return args[index + 1];
  const inline = args.find((a) => a.startsWith(`${name}=`));
  return inline?.slice(name.length + 1);
}

async function main(): Promise<void> {
  const portText = argValue('--port') ?? process.env.TELEGRAM_EMULATOR_PORT ?? '0';
  const port = Number(portText);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--port must be a port number, got ${JSON.stringify(portText)}`);
  const host = argValue('--host') ?? '127.0.0.1';
  const emulator = await startTelegramEmulator({ port, host });

  let stopping = false;
  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) return;
    stopping = true;
    process.stderr.write(`telegram emulator: ${signal}, closing\n`);
    emulator.close().then(
      () => process.exit(0),
      (error: unknown) => {
        console.error(error);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);

  process.stdout.write(`${JSON.stringify({ apiRoot: emulator.apiRoot, url: emulator.url, port: emulator.port, pid: process.pid })}\n`);
}

main().catch((error: unknown) => {
  console.error('telegram emulator failed to start:', error);
  process.exit(1);
});
