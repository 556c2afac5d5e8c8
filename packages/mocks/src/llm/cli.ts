/**
 * Runs one mock LLM server as its own process:
 *   tsx packages/mocks/src/llm/cli.ts --provider openai|gemini [--port N] [--host H] [--latency-ms M]
 *     [--latency-median-ms M --latency-p99-ms P] [--seed S] [--cached-tokens N]
 * Prints one JSON line {"provider","url","sdkBaseUrl","port"} on stdout once listening; exits 0 on SIGTERM/SIGINT
 * after closing the server, 2 on bad arguments, 1 if it cannot start.
 */
import { parseArgs } from 'node:util';
import { startMockLlm } from './index';
import type { LatencySpec, MockLlmConfig } from './types';

const USAGE =
  'usage: cli.ts --provider openai|gemini [--port N] [--host H] [--latency-ms M] ' +
  '[--latency-median-ms M --latency-p99-ms P] [--seed S] [--cached-tokens N]';

function numberArg(values: Record<string, string | undefined>, name: string): number | undefined {
  const raw = values[name];
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < 0) throw new Error(`--${name} must be a non-negative number`);
  return n;
}

function parseCli(argv: string[]) {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      provider: { type: 'string' },
      port: { type: 'string' },
      host: { type: 'string' },
      'latency-ms': { type: 'string' },
      'latency-median-ms': { type: 'string' },
      'latency-p99-ms': { type: 'string' },
      seed: { type: 'string' },
      'cached-tokens': { type: 'string' },
    },
  });
  const provider = values.provider;
  if (provider !== 'openai' && provider !== 'gemini') throw new Error('--provider must be openai or gemini');
  const fixed = numberArg(values, 'latency-ms');
  const median = numberArg(values, 'latency-median-ms');
  const p99 = numberArg(values, 'latency-p99-ms');
  let latency: LatencySpec | undefined;
  if (median !== undefined || p99 !== undefined) {
    if (median === undefined || p99 === undefined) throw new Error('--latency-median-ms and --latency-p99-ms go together');
    latency = { kind: 'lognormal', medianMs: median, p99Ms: p99 };
  } else if (fixed !== undefined) {
    latency = { kind: 'fixed', ms: fixed };
  }
  const seed = numberArg(values, 'seed');
  const cachedTokens = numberArg(values, 'cached-tokens');
  const config: Partial<MockLlmConfig> = {
    ...(latency ? { latency } : {}),
    ...(seed !== undefined ? { seed } : {}),
    ...(cachedTokens !== undefined ? { cachedTokens } : {}),
  };
  return { provider, port: numberArg(values, 'port') ?? 0, host: values.host ?? '127.0.0.1', config } as const;
}

async function main(): Promise<void> {
  let args: ReturnType<typeof parseCli>;
  try {
    args = parseCli(process.argv.slice(2));
  } catch (err) {
    console.error(`${err instanceof Error ? err.message : String(err)}\n${USAGE}`);
    process.exitCode = 2;
    return;
  }
  const server = await startMockLlm(args.provider, { port: args.port, host: args.host, config: args.config });
  const stop = () => {
    void server.close().then(() => process.exit(0));
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  process.stdout.write(
    `${JSON.stringify({ provider: server.provider, url: server.url, sdkBaseUrl: server.sdkBaseUrl, port: server.port })}\n`,
  );
}

main().catch((err: unknown) => {
  console.error(`mock llm failed to start: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
