/**
 * Runs one mock LLM server as its own process:
 *   tsx packages/mocks/src/llm/cli.ts --provider openai|gemini [--port N] [--host H] [--latency-ms M]
 *     [--latency-median-ms M --latency-p99-ms P] [--seed S] [--cached-tokens N]
 *     [--error-rate R] [--error-status S] [--rate-limit-rate R] [--retry-after-ms M]
 *     [--retry-after-headers both|seconds|ms|none] [--timeout-rate R] [--down] [--down-mode error|hang|refuse]
 *     [--quota-exhausted minute|day]
 * The fault flags set the standing faults of MockLlmConfig (rates 0-1, summing to at most 1); change them at
 * runtime over HTTP with mockLlmControl(url).configure(...).
 * Prints one JSON line {"provider","url","sdkBaseUrl","port"} on stdout once listening; exits 0 on SIGTERM/SIGINT
 * after closing the server, 2 on bad arguments, 1 if it cannot start.
 */
import { parseArgs } from 'node:util';
import { startMockLlm } from './index';
import { DEFAULT_CONFIG } from './state';
import type { LatencySpec } from './types';
import { assertConsistentConfig, parseConfigPatch } from './validate';

const USAGE =
  'usage: cli.ts --provider openai|gemini [--port N] [--host H] [--latency-ms M] ' +
  '[--latency-median-ms M --latency-p99-ms P] [--seed S] [--cached-tokens N] ' +
  '[--error-rate R] [--error-status S] [--rate-limit-rate R] [--retry-after-ms M] ' +
  '[--retry-after-headers both|seconds|ms|none] [--timeout-rate R] [--down] [--down-mode error|hang|refuse] ' +
  '[--quota-exhausted minute|day]';

// Numeric flags that map one to one onto config fields (checked by parseConfigPatch like control input).
const NUMBER_FIELDS = {
  seed: 'seed',
  'cached-tokens': 'cachedTokens',
  'error-rate': 'errorRate',
  'error-status': 'errorStatus',
  'rate-limit-rate': 'rateLimitRate',
  'retry-after-ms': 'retryAfterMs',
  'timeout-rate': 'timeoutRate',
} as const;
const STRING_FIELDS = {
  'retry-after-headers': 'retryAfterHeaders',
  'down-mode': 'downMode',
  'quota-exhausted': 'quotaExhausted',
} as const;

function numberArg(values: Record<string, string | boolean | undefined>, name: string): number | undefined {
  const raw = values[name];
  if (raw === undefined || typeof raw === 'boolean') return undefined;
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
      'error-rate': { type: 'string' },
      'error-status': { type: 'string' },
      'rate-limit-rate': { type: 'string' },
      'retry-after-ms': { type: 'string' },
      'retry-after-headers': { type: 'string' },
      'timeout-rate': { type: 'string' },
      down: { type: 'boolean' },
      'down-mode': { type: 'string' },
      'quota-exhausted': { type: 'string' },
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
  const raw: Record<string, unknown> = latency ? { latency } : {};
  for (const [flag, field] of Object.entries(NUMBER_FIELDS)) {
    const n = numberArg(values, flag);
    if (n !== undefined) raw[field] = n;
  }
  for (const [flag, field] of Object.entries(STRING_FIELDS)) {
    const v = values[flag as keyof typeof STRING_FIELDS];
    if (v !== undefined) raw[field] = v;
  }
  if (values.down) raw['down'] = true;
  // The same checks as the control routes, so a bad flag exits 2 instead of failing at start.
  const config = parseConfigPatch(raw);
  assertConsistentConfig({ ...DEFAULT_CONFIG, ...config });
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
