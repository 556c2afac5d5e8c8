import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { mockLlmControl } from './control-client';

const CLI = path.join(__dirname, 'cli.ts');
const children: ChildProcessWithoutNullStreams[] = [];

afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
});

function runCli(args: string[]): ChildProcessWithoutNullStreams {
  const child = spawn(process.execPath, [require.resolve('tsx/cli'), CLI, ...args], { stdio: 'pipe' });
  children.push(child);
  return child;
}

async function firstLine(child: ChildProcessWithoutNullStreams): Promise<string> {
  const lines = createInterface({ input: child.stdout });
  const exited = once(child, 'exit').then(([code]) => {
    throw new Error(`cli exited with ${String(code)} before printing`);
  });
  try {
    const [line] = (await Promise.race([once(lines, 'line'), exited])) as [string];
    return line;
  } finally {
    lines.close();
  }
}

describe('mock LLM cli', () => {
  it('prints where it listens, serves the API, and exits 0 on SIGTERM', async () => {
    const child = runCli(['--provider', 'gemini', '--port', '0', '--latency-ms', '5']);
    const info = JSON.parse(await firstLine(child)) as { provider: string; url: string; sdkBaseUrl: string; port: number };
    expect(info).toMatchObject({ provider: 'gemini', url: `http://127.0.0.1:${info.port}` });
    expect(info.port).toBeGreaterThan(0);

    const res = await fetch(`${info.sdkBaseUrl}/v1beta/models/g:generateContent`, {
      method: 'POST',
      headers: { 'x-goog-api-key': 'k' },
      body: JSON.stringify({ contents: [{ role: 'user', parts: [{ text: 'ping' }] }] }),
    });
    expect(res.status).toBe(200);
    expect(JSON.stringify(await res.json())).toContain('Mock reply to: ping');
    const stats = (await (await fetch(`${info.url}/__mock/stats`)).json()) as { requests: number };
    expect(stats.requests).toBe(1);

    const exit = once(child, 'exit');
    child.kill('SIGTERM');
    const [code, signal] = (await exit) as [number | null, NodeJS.Signals | null];
    expect({ code, signal }).toEqual({ code: 0, signal: null });
  }, 30000);

  it('starts with standing faults from flags and takes runtime changes from another process over HTTP', async () => {
    const child = runCli(['--provider', 'openai', '--down', '--down-mode', 'refuse', '--seed', '7', '--retry-after-ms', '1500']);
    const info = JSON.parse(await firstLine(child)) as { url: string; sdkBaseUrl: string };
    const ask = () =>
      fetch(`${info.sdkBaseUrl}/chat/completions`, {
        method: 'POST',
        headers: { authorization: 'Bearer sk-x', 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'gpt-x', messages: [{ role: 'user', content: 'ping' }] }),
      });
    // undici's TypeError comes from another realm than jest's, so compare by name.
    await expect(ask()).rejects.toMatchObject({ name: 'TypeError' });

    const control = mockLlmControl(info.url);
    expect(await control.config()).toMatchObject({ down: true, downMode: 'refuse', seed: 7, retryAfterMs: 1500 });
    await control.configure({ down: false });
    expect((await ask()).status).toBe(200);
    await control.configure({ rateLimitRate: 1 });
    const limited = await ask();
    expect([limited.status, limited.headers.get('retry-after'), limited.headers.get('retry-after-ms')]).toEqual([429, '2', '1500']);
    await control.configure({ rateLimitRate: 0, errorRate: 1, errorStatus: 500 });
    expect((await ask()).status).toBe(500);
    await control.clearFaults();
    expect((await ask()).status).toBe(200);
    expect((await control.stats()).byKind).toEqual({ ok: 2, error: 1, rate_limited: 1, timeout: 0, refused: 1 });

    const exit = once(child, 'exit');
    child.kill('SIGTERM');
    expect(((await exit) as [number | null])[0]).toBe(0);
  }, 30000);

  it.each([
    [['--error-rate', '1.5']],
    [['--error-rate', '0.6', '--timeout-rate', '0.6']],
    [['--down-mode', 'sideways']],
    [['--quota-exhausted', 'hour']],
    [['--error-status', '200']],
  ])('exits 2 on bad fault flags %j', async (flags) => {
    const child = runCli(['--provider', 'gemini', ...flags]);
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const [code] = (await once(child, 'exit')) as [number | null];
    expect(code).toBe(2);
    expect(stderr).toContain('usage:');
  }, 30000);

  it('exits 2 with usage on bad arguments', async () => {
    const child = runCli(['--provider', 'claude']);
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const [code] = (await once(child, 'exit')) as [number | null];
    expect(code).toBe(2);
    expect(stderr).toContain('usage:');
  }, 30000);
});
