import { spawnApp, stopAll } from '@inner-talk/testkit';
import { SHUTDOWN_CLOSE_MS } from './index';

const FIXTURE = 'packages/telemetry/src/fixtures/stoppable-app.ts';

afterAll(() => stopAll());

async function startFixture(env: Record<string, string>) {
  // One process (no tsx parent relaying signals), as node runs the apps in the image.
  return spawnApp({ name: 'runapp-fixture', entry: FIXTURE, env, readyPattern: /fixture: started/, runner: 'import' });
}

describe('runApp', () => {
  it('exits 0 when stop resolves', async () => {
    const app = await startFixture({ FIXTURE_STOP: 'resolves' });
    expect(await app.stop('SIGTERM', 5_000)).toBe(0);
  });

  it('exits 1 when stop throws', async () => {
    const app = await startFixture({ FIXTURE_STOP: 'throws' });
    expect(await app.stop('SIGTERM', 5_000)).toBe(1);
  });

  it('exits 1 at the drain time plus the close allowance when stop never settles', async () => {
    const graceMs = 300;
    const app = await startFixture({ FIXTURE_STOP: 'hangs', FIXTURE_GRACE_MS: String(graceMs) });
    const started = Date.now();
    // stop() SIGKILLs after its timeout (exit 137): a clean 1 proves the deadline fired first.
    const code = await app.stop('SIGTERM', graceMs + SHUTDOWN_CLOSE_MS + 4_000);
    const tookMs = Date.now() - started;
    expect(code).toBe(1);
    expect(tookMs).toBeGreaterThanOrEqual(graceMs + SHUTDOWN_CLOSE_MS - 100);
    expect(tookMs).toBeLessThan(graceMs + SHUTDOWN_CLOSE_MS + 3_000);
    expect(app.logs()).toContain(`fixture: stop did not finish within ${graceMs + SHUTDOWN_CLOSE_MS} ms of SIGTERM; exiting`);
  }, 20_000);
});
