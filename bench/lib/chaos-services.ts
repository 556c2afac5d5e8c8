/**
 * Redis and FerretDB servers that a benchmark owns and may crash: each runs as a child process on a
 * fixed loopback port with its data in a private directory, and can be killed and started again on
 * the same port with the same data (what a container restart does). Used by bench/chaos.ts.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { MongoClient } from 'mongodb';
import { freePort, repoRoot, startWatchdog } from '@inner-talk/testkit';

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, Math.max(0, ms)));

/** A server process that can be killed and started again on the same port with the same data. */
export interface RestartableServer {
  readonly name: string;
  readonly url: string;
  readonly port: number;
  /** Its output (all starts, appended), for evidence after a run. */
  readonly logFile: string;
  /** Pid of the running process, or null while it is down. */
  pid(): number | null;
  /** Sends `signal` and waits until the process is gone (SIGKILL after 10 s). No-op while down. */
  kill(signal: NodeJS.Signals): Promise<void>;
  /** Starts it again on the same port with the same data; resolves once it answers. */
  start(): Promise<void>;
  /** Kills it (if up) and deletes its data directory. Idempotent. */
  destroy(): Promise<void>;
}

const alive = new Set<ChildProcess>();
let exitHook = false;
function track(child: ChildProcess): void {
  alive.add(child);
  child.once('exit', () => alive.delete(child));
  if (!exitHook) {
    exitHook = true;
    // A normal exit (or process.exit after an error) must not leave servers behind.
    process.on('exit', () => {
      for (const c of alive) c.kill('SIGKILL');
    });
  }
}

function logPath(name: string): string {
  const dir = path.join(repoRoot(), '.run', 'test-logs');
  fs.mkdirSync(dir, { recursive: true });
  return path.join(dir, `${name}-${new Date().toISOString().replace(/[:.]/g, '-')}-${process.pid}.log`);
}

interface ServerSpec {
  name: string;
  port: number;
  dataDir: string;
  command: string;
  args: string[];
  /** Resolves once the server answers; `output` is its output of this start so far. */
  ready(output: () => string, child: ChildProcess): Promise<void>;
}

function restartable(spec: ServerSpec, url: string): RestartableServer {
  const logFile = logPath(spec.name);
  const log = fs.createWriteStream(logFile, { flags: 'a' });
  let child: ChildProcess | null = null;
  let goodbye: () => void = () => undefined;
  let destroyed = false;

  const exited = (c: ChildProcess) => (c.exitCode !== null || c.signalCode !== null ? Promise.resolve() : new Promise<void>((resolve) => c.once('exit', () => resolve())));

  const kill = async (signal: NodeJS.Signals) => {
    const c = child;
    if (!c) return;
    child = null;
    log.write(`\n# chaos: ${signal} at ${new Date().toISOString()}\n`);
    c.kill(signal);
    const gone = await Promise.race([exited(c).then(() => true), sleep(10_000).then(() => false)]);
    if (!gone) {
      c.kill('SIGKILL');
      await exited(c);
    }
    goodbye();
  };

  const start = async () => {
    if (destroyed) throw new Error(`${spec.name} was destroyed`);
    if (child) throw new Error(`${spec.name} is already running`);
    log.write(`\n# chaos: starting at ${new Date().toISOString()}: ${spec.command} ${spec.args.join(' ')}\n`);
    const c = spawn(spec.command, spec.args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const onData = (chunk: Buffer) => {
      log.write(chunk);
      output = (output + chunk.toString()).slice(-8000);
    };
    c.stdout?.on('data', onData);
    c.stderr?.on('data', onData);
    const spawnError = new Promise<never>((_, reject) => c.once('error', reject));
    spawnError.catch(() => undefined);
    track(c);
    child = c;
    if (c.pid !== undefined) goodbye = startWatchdog(c.pid, { processGroup: false });
    const died = exited(c).then(() => {
      throw new Error(`${spec.name} exited during start-up (code ${c.exitCode ?? c.signalCode}); log ${logFile}:\n${output.slice(-2000)}`);
    });
    died.catch(() => undefined);
    try {
      await Promise.race([spec.ready(() => output, c), spawnError, died]);
    } catch (error) {
      await kill('SIGKILL');
      throw error;
    }
  };

  return {
    name: spec.name,
    url,
    port: spec.port,
    logFile,
    pid: () => child?.pid ?? null,
    kill,
    start,
    destroy: async () => {
      if (destroyed) return;
      destroyed = true;
      await kill('SIGKILL');
      log.end();
      fs.rmSync(spec.dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * Starts redis-server from PATH on a free port as production runs it for BullMQ: AOF on
 * (`appendfsync` as given), `noeviction`, no RDB snapshots. Data in a temporary directory, so a
 * restart replays the AOF.
 */
export async function startRestartableRedis(options: { appendfsync: 'always' | 'everysec' }): Promise<RestartableServer & { version(): string }> {
  const port = await freePort();
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'inner-talk-chaos-redis-'));
  let version = '?';
  const server = restartable(
    {
      name: 'chaos-redis',
      port,
      dataDir,
      command: 'redis-server',
      args: ['--bind', '127.0.0.1', '--port', String(port), '--dir', dataDir, '--appendonly', 'yes', '--appendfsync', options.appendfsync, '--maxmemory-policy', 'noeviction', '--save', '', '--logfile', ''],
      ready: async (output) => {
        const deadline = Date.now() + 20_000;
        while (Date.now() < deadline) {
          // Redis answers LOADING while it replays the AOF; this line comes after.
          if (/Ready to accept connections/.test(output())) {
            version = /v=([\d.]+)/.exec(output())?.[1] ?? /Redis version=([\d.]+)/.exec(output())?.[1] ?? version;
            return;
          }
          await sleep(20);
        }
        throw new Error(`redis-server did not get ready within 20 s`);
      },
    },
    `redis://127.0.0.1:${port}`,
  );
  await server.start();
  return { ...server, version: () => version };
}

/**
 * The FerretDB binary to run: FERRETDB_BIN, else the patched build scripts/services.sh makes in
 * .run/bin (other FerretDB binaries on the machine lack its `_id` index patch, so they are not used).
 */
export function findFerretDb(): string {
  const candidates = [process.env.FERRETDB_BIN, path.join(repoRoot(), '.run', 'bin', 'ferretdb')];
  for (const c of candidates) {
    if (!c) continue;
    try {
      fs.accessSync(c, fs.constants.X_OK);
      return c;
    } catch {
      // next
    }
  }
  throw new Error('no FerretDB binary found: set FERRETDB_BIN, or run `bash scripts/services.sh up mongo` (it builds .run/bin/ferretdb)');
}

async function tcpOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(500, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/** Resolves once a MongoDB `ping` on `url` succeeds; rejects after `timeoutMs`. */
export async function waitForMongoPing(url: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    const port = Number(new URL(url).port);
    if (await tcpOpen(port)) {
      const client = new MongoClient(url, { serverSelectionTimeoutMS: 1000, connectTimeoutMS: 1000, directConnection: true });
      try {
        await client.db('admin').command({ ping: 1 });
        return;
      } catch (error) {
        last = error;
      } finally {
        await client.close().catch(() => undefined);
      }
    }
    await sleep(100);
  }
  throw new Error(`no MongoDB ping answer on ${url} within ${timeoutMs} ms${last instanceof Error ? ` (${last.name})` : ''}`);
}

/**
 * Starts FerretDB (SQLite handler) on a free port with its data and state in a temporary
 * directory, the way scripts/services.sh runs the shared one.
 */
export async function startRestartableFerretDb(): Promise<RestartableServer & { binary: string }> {
  const binary = findFerretDb();
  const port = await freePort();
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'inner-talk-chaos-ferretdb-'));
  fs.mkdirSync(path.join(dataDir, 'data'));
  fs.mkdirSync(path.join(dataDir, 'state'));
  const url = `mongodb://127.0.0.1:${port}`;
  const server = restartable(
    {
      name: 'chaos-ferretdb',
      port,
      dataDir,
      command: binary,
      args: [
        '--handler=sqlite',
        `--sqlite-url=file:${path.join(dataDir, 'data')}/`,
        `--state-dir=${path.join(dataDir, 'state')}`,
        `--listen-addr=127.0.0.1:${port}`,
        '--telemetry=disable',
        '--debug-addr=-',
      ],
      ready: () => waitForMongoPing(url, 30_000),
    },
    url,
  );
  await server.start();
  return { ...server, binary };
}
