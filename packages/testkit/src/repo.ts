import fs from 'node:fs';
import path from 'node:path';

let cachedRoot: string | undefined;

/**
 * Absolute path of the monorepo root (the directory holding pnpm-workspace.yaml), found by walking up
 * from this file. Entries of {@link spawnApp} and `.run/` paths are relative to it.
 */
export function repoRoot(): string {
  if (cachedRoot) return cachedRoot;
  let dir = __dirname;
  for (;;) {
    if (fs.existsSync(path.join(dir, 'pnpm-workspace.yaml'))) return (cachedRoot = dir);
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`testkit: no pnpm-workspace.yaml above ${__dirname}`);
    dir = parent;
  }
}
