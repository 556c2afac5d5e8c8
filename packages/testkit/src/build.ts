import { spawnSync } from 'node:child_process';
import { repoRoot } from './repo';

let built = false;

/**
 * Compiles the apps with the production build (`scripts/build.ts`: dist/<app>.js, what the image
 * runs), once per process, so that tests and benchmarks run what ships and never a stale build.
 * Takes a second or two. Throws with the build's output if it fails.
 */
export function ensureAppsBuilt(): void {
  if (built) return;
  const result = spawnSync(process.execPath, [require.resolve('tsx/cli'), 'scripts/build.ts'], { cwd: repoRoot(), encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`the production build (scripts/build.ts) failed:\n${result.stdout ?? ''}${result.stderr ?? ''}`);
  built = true;
}
