import { spawnSync } from 'node:child_process';
import { repoRoot } from '@inner-talk/testkit';

function start(entry: string, env: Record<string, string>) {
  const result = spawnSync(process.execPath, [require.resolve('tsx/cli'), entry], {
    cwd: repoRoot(),
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    encoding: 'utf8',
    timeout: 30_000,
  });
  return { code: result.status, stderr: result.stderr };
}

describe('apps refuse a bad environment at start', () => {
  it('worker: exits 1 naming every missing or malformed variable, without echoing values', () => {
    const { code, stderr } = start('apps/worker/src/index.ts', {
      REDIS_URL: 'redis://127.0.0.1:1',
      TELEGRAM_BOT_TOKEN: '123:secret-token-value',
      WORKER_CONCURRENCY: 'lots',
      LLM_CHAIN: 'gemini',
      LLM_GEMINI_KEYS: 'gemini-secret-value',
    });
    expect(code).toBe(1);
    expect(stderr).toContain('Invalid configuration for worker');
    expect(stderr).toContain('MONGO_URL: is required but not set');
    expect(stderr).toContain('WORKER_CONCURRENCY: must be a whole number');
    expect(stderr).not.toMatch(/secret-token-value|gemini-secret-value|lots/);
  });

  it('ingress: exits 1 when webhook mode has no secret', () => {
    const { code, stderr } = start('apps/ingress/src/index.ts', { REDIS_URL: 'redis://127.0.0.1:1', TELEGRAM_BOT_TOKEN: '123:abc' });
    expect(code).toBe(1);
    expect(stderr).toContain('WEBHOOK_SECRET: is required when INGRESS_MODE=webhook');
  });

  it('metrics: exits 1 on a malformed REDIS_URL', () => {
    const { code, stderr } = start('apps/metrics/src/index.ts', { REDIS_URL: 'localhost:6379', METRICS_PORT: '70000' });
    expect(code).toBe(1);
    expect(stderr).toContain('REDIS_URL: must be a URL starting with redis://');
    expect(stderr).toContain('METRICS_PORT: must be at most 65535');
  });
});
