import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { freePort, repoRoot, runningApps, spawnApp, stopAll, waitFor } from './index';

const FIXTURE = 'packages/testkit/src/fixtures/health-server.ts';

afterAll(() => stopAll());

describe('spawnApp', () => {
  it('starts a .ts entry through tsx, waits for its health URL, captures output, and stop() returns the exit code', async () => {
    process.env.TESTKIT_PARENT_ONLY = 'leak';
    const port = await freePort();
    try {
      const app = await spawnApp({
        name: 'fixture-health',
        entry: FIXTURE,
        env: { PORT: String(port), GREETING: 'hi', FIXTURE_EXIT_CODE: '7' },
        healthUrl: `http://127.0.0.1:${port}/healthz`,
        readyTimeoutMs: 20_000,
      });
      expect(app.pid).toBeGreaterThan(0);
      expect(app.exitCode()).toBeNull();
      const response = await fetch(`http://127.0.0.1:${port}/healthz`);
      expect(await response.text()).toBe('ok');
      // Only PATH, HOME and the given env reach the process.
      expect(app.logs()).toContain('GREETING=hi, LEAKED=-');
      expect(await app.waitForLog(/listening on \d+/)).toBe(`fixture: listening on ${port}`);
      expect(await app.stop()).toBe(7);
      expect(app.exitCode()).toBe(7);
      expect(await app.stop()).toBe(7); // idempotent
      expect(app.logs()).toContain('fixture: SIGTERM, shutting down');
      const file = fs.readFileSync(app.logFile, 'utf8');
      expect(file).toContain(`fixture: listening on ${port}`);
      expect(file).toContain('exited with code 7');
      expect(runningApps()).not.toContain(app);
    } finally {
      delete process.env.TESTKIT_PARENT_ONLY;
    }
  });

  it('is ready when a line matches readyPattern', async () => {
    const app = await spawnApp({ name: 'fixture-pattern', entry: FIXTURE, env: { PORT: '0' }, readyPattern: /listening on/ });
    expect(app.logs()).toMatch(/fixture: listening on 0/);
    expect(await app.stop('SIGTERM', 5_000)).toBe(0);
  });

  it('fails fast with the exit code and the captured output when the process exits before it is ready', async () => {
    const port = await freePort();
    const started = Date.now();
    const failure = spawnApp({ name: 'fixture-early-exit', entry: FIXTURE, env: { PORT: String(port), FIXTURE_MODE: 'exit-early' }, healthUrl: `http://127.0.0.1:${port}/healthz`, readyTimeoutMs: 20_000 });
    await expect(failure).rejects.toThrow(/spawnApp\(fixture-early-exit\): exited with code 3 before it was ready[\s\S]*missing required setting FIXTURE_SOMETHING/);
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('kills the process and reports its output when it is not ready in time', async () => {
    const port = await freePort();
    const failure = spawnApp({
      name: 'fixture-slow',
      entry: FIXTURE,
      env: { PORT: String(port), FIXTURE_START_DELAY_MS: '60000' },
      healthUrl: `http://127.0.0.1:${port}/healthz`,
      readyTimeoutMs: 1_500,
    });
    await expect(failure).rejects.toThrow(/not ready within 1500 ms \(waiting for http:\/\/127\.0\.0\.1:\d+\/healthz to answer 200\)[\s\S]*fixture: starting/);
    expect(runningApps().map((a) => a.name)).not.toContain('fixture-slow');
  });

  it('SIGKILLs a process that ignores the stop signal and returns 137', async () => {
    const app = await spawnApp({ name: 'fixture-stubborn', entry: FIXTURE, env: { PORT: '0', FIXTURE_MODE: 'ignore-sigterm' }, readyPattern: /listening/ });
    expect(await app.stop('SIGTERM', 1_000)).toBe(137);
    expect(app.logs()).toContain('fixture: ignoring SIGTERM');
  });

  it("runs the entry in one process with runner 'import'", async () => {
    const port = await freePort();
    const app = await spawnApp({ name: 'fixture-import', entry: FIXTURE, runner: 'import', env: { PORT: String(port), FIXTURE_EXIT_CODE: '5' }, healthUrl: `http://127.0.0.1:${port}/healthz` });
    expect(await app.stop()).toBe(5);
  });

  it('rejects a missing entry before spawning anything', async () => {
    await expect(spawnApp({ name: 'nothing', entry: 'packages/testkit/src/fixtures/missing.ts' })).rejects.toThrow(/entry packages\/testkit\/src\/fixtures\/missing\.ts not found/);
  });

  it('kills an app whose parent dies without stopping it (even by SIGKILL)', async () => {
    const parent = spawn(process.execPath, ['--import', 'tsx', 'packages/testkit/src/fixtures/forgetful-parent.ts'], {
      cwd: repoRoot(),
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '' },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const appPid = await new Promise<number>((resolve, reject) => {
      parent.stdout.on('data', (chunk: Buffer) => resolve(Number(chunk.toString().trim())));
      parent.once('exit', (code) => reject(new Error(`forgetful parent exited early (${code})`)));
    });
    const alive = (pid: number): boolean => {
      try {
        process.kill(pid, 0);
        return true;
      } catch {
        return false;
      }
    };
    expect(alive(appPid)).toBe(true);
    parent.kill('SIGKILL');
    await waitFor(() => !alive(appPid), { timeoutMs: 5_000, message: `orphaned app ${appPid} to be killed` });
  });

  it('stopAll() stops whatever is still running', async () => {
    const a = await spawnApp({ name: 'left-1', entry: FIXTURE, env: { PORT: '0' }, readyPattern: /listening/ });
    const b = await spawnApp({ name: 'left-2', entry: FIXTURE, env: { PORT: '0', FIXTURE_EXIT_CODE: '2' }, readyPattern: /listening/ });
    await stopAll();
    expect([a.exitCode(), b.exitCode()]).toEqual([0, 2]);
    expect(runningApps()).toEqual([]);
  });
});
