/**
 * The production build: each app compiled once to one JavaScript file under dist/ (what the image
 * runs), with our packages and their npm dependencies bundled in, so the image needs no node_modules.
 *
 *   pnpm build            dist/ingress.js, dist/worker.js, dist/metrics.js, the CLI, the mock servers
 *
 * Why bundle the npm dependencies too: their installed production tree is 122 MB (openai alone 35 MB),
 * which with Debian and Node would put the image far over its 250 MB budget; bundled, the code that
 * is actually imported is a few MB. Optional native add-ons that libraries load inside try/catch
 * (compression, Kerberos, faster msgpack) stay external: absent, the libraries fall back as they do
 * when those are not installed.
 *
 * Files our packages read at run time (Lua scripts) are found relative to their source folder
 * (`__dirname`): the bundle keeps that by rewriting `__dirname` in workspace sources to the source
 * folder's place under dist/, where those files are copied.
 */
import { build, type Plugin } from 'esbuild';
import fs from 'node:fs';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '..');
const DIST = path.join(ROOT, 'dist');

/** Entry points: output name (dist/<name>.js) → source. */
export const ENTRIES: Readonly<Record<string, string>> = {
  ingress: 'apps/ingress/src/index.ts',
  worker: 'apps/worker/src/index.ts',
  metrics: 'apps/metrics/src/index.ts',
  cli: 'scripts/cli.ts',
  healthcheck: 'scripts/healthcheck.ts',
  'mock-telegram': 'packages/mocks/src/telegram/cli.ts',
  'mock-llm': 'packages/mocks/src/llm/cli.ts',
};

/** Runtime data files next to sources: copied to the same relative place under dist/. */
const DATA_DIRS = ['packages/queue/src/lua', 'packages/gateway-state/src/lua'];

const isWorkspaceSource = (file: string) => !file.includes(`${path.sep}node_modules${path.sep}`) && file.startsWith(ROOT + path.sep);

/** Optional modules that libraries require inside try/catch; none is a dependency of ours. */
const OPTIONAL_EXTERNALS = [
  'msgpackr-extract',
  'kerberos',
  '@mongodb-js/zstd',
  'snappy',
  'mongodb-client-encryption',
  '@aws-sdk/credential-providers',
  'socks',
  'aws4',
  'bufferutil',
  'utf-8-validate',
  'pino-pretty',
  'supports-color',
];

/** Keeps `__dirname` meaning "this source file's folder" inside the bundle (see the header). */
const sourceDirname: Plugin = {
  name: 'source-dirname',
  setup(b) {
    b.onLoad({ filter: /\.ts$/ }, (args) => {
      if (!isWorkspaceSource(args.path)) return undefined;
      const text = fs.readFileSync(args.path, 'utf8');
      if (!/\b__dirname\b/.test(text)) return undefined;
      const relative = path.relative(ROOT, path.dirname(args.path)).split(path.sep).join('/');
      const contents = text.replace(/\b__dirname\b/g, `require('node:path').join(__dirname, ${JSON.stringify(relative)})`);
      return { contents, loader: 'ts' };
    });
  },
};

async function main(): Promise<void> {
  fs.rmSync(DIST, { recursive: true, force: true });
  await build({
    absWorkingDir: ROOT,
    entryPoints: Object.fromEntries(Object.entries(ENTRIES).map(([name, source]) => [name, path.join(ROOT, source)])),
    outdir: DIST,
    bundle: true,
    platform: 'node',
    target: 'node24',
    format: 'cjs',
    sourcemap: 'linked',
    // Smaller files, same names: stack traces stay readable (error classes set `name` themselves).
    minifyWhitespace: true,
    minifySyntax: true,
    keepNames: true,
    logLevel: 'warning',
    external: OPTIONAL_EXTERNALS,
    // node-fetch 2 (grammY) requires Node's deprecated built-in punycode, which warns on stderr from
    // code outside node_modules, as a bundle is: the npm package is the same code without the warning.
    alias: { punycode: 'punycode/' },
    plugins: [sourceDirname],
  });
  for (const dir of DATA_DIRS) fs.cpSync(path.join(ROOT, dir), path.join(DIST, dir), { recursive: true });
  process.stdout.write(`built ${Object.keys(ENTRIES).map((name) => `dist/${name}.js`).join(', ')}\n`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
