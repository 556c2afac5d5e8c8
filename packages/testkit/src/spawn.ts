import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import { constants as osConstants } from 'node:os';
import path from 'node:path';
import { repoRoot } from './repo';

/** Options of {@link spawnApp}. */
export interface SpawnAppOptions {
  /** Short name for messages and the log file name, e.g. "ingress" or "worker-1". */
  name: string;
  /** TypeScript entry point, relative to the repository root (or absolute). */
  entry: string;
  /**
   * Environment of the process: merged over a minimal one (PATH and HOME of this process only), so
   * nothing else leaks in from the test runner. `undefined` values are dropped.
   */
  env?: Record<string, string | undefined>;
  /** Extra command-line arguments after the entry. */
  args?: string[];
  /** Ready when GET of this URL answers 200 (polled every 50 ms). */
  healthUrl?: string;
  /** Ready when a line of stdout or stderr matches this. With `healthUrl`, whichever comes first. */
  readyPattern?: RegExp;
  /** Give up (kill the process, throw with its output) after this long. Default 30000 ms. */
  readyTimeoutMs?: number;
  /** Working directory. Default: the repository root. */
  cwd?: string;
  /** Output kept in memory for `logs()`; older output is dropped (the log file keeps everything). Default 1 MB. */
  maxLogChars?: number;
  /**
   * How the entry runs. `tsx-cli` (default): `node <tsx/cli> entry`, a tsx parent process that relays
   * SIGINT/SIGTERM to the app's process. Note that tsx SIGKILLs the app if it does not acknowledge a
   * relayed signal within ~30 ms (an event loop blocked that long). `import`: `node --import tsx entry`,
   * one process, signals delivered directly. `node`: `node --enable-source-maps entry`, for compiled
   * JavaScript (what the image runs; see `ensureAppsBuilt`), one process.
   */
  runner?: 'tsx-cli' | 'import' | 'node';
  /**
   * Whether the child keeps this process alive. Default: true, except under Jest (JEST_WORKER_ID set),
   * where a forgotten process must not keep Jest from exiting (it is killed when this process exits).
   */
  keepAlive?: boolean;
}

/** A process started by {@link spawnApp}. */
export interface AppProcess {
  readonly name: string;
  readonly pid: number;
  /** File under .run/test-logs/ with the whole output (stdout and stderr interleaved). */
  readonly logFile: string;
  /** Output so far (stdout and stderr interleaved; the newest `maxLogChars` characters). */
  logs(): string;
  /** Exit code once exited (128 + signal number when killed by a signal), else null. */
  exitCode(): number | null;
  /** Resolves with the first output line (past or future) matching `pattern`; rejects after `timeoutMs` (default 10000) or if the process exits first. */
  waitForLog(pattern: RegExp | string, timeoutMs?: number): Promise<string>;
  /** Resolves with the exit code when the process exits; rejects after `timeoutMs` (default: no limit). */
  waitForExit(timeoutMs?: number): Promise<number>;
  /**
   * Sends `signal` (default SIGTERM) and waits up to `timeoutMs` (default 10000) for the exit, then
   * SIGKILLs the whole process group. Resolves with the exit code (128 + signal number for a signal).
   * Safe to call more than once and after the process exited.
   */
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<number>;
  /** SIGKILL to the process and its children (its process group), at once. */
  kill(): void;
}

interface Running {
  app: AppProcess;
  child: ChildProcess;
}

const running = new Set<Running>();
const cleanups: Array<() => unknown> = [];

/** Last resort when this process exits with apps still running: SIGKILL their process groups. */
function killAllSync(): void {
  for (const { child } of running) {
    if (child.pid !== undefined) {
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
}
let exitHookInstalled = false;
function trackExitHook(): void {
  if (running.size > 0 && !exitHookInstalled) {
    process.on('exit', killAllSync);
    exitHookInstalled = true;
  } else if (running.size === 0 && exitHookInstalled) {
    process.off('exit', killAllSync);
    exitHookInstalled = false;
  }
}

/**
 * A tiny `sh` watching this process on behalf of a child: it SIGKILLs the child (its process group
 * with `processGroup`) when its stdin pipe closes without "done" — that is, when this process died
 * or exited (normally, by a crash, or by SIGKILL) while the child was still running. Needed under
 * Jest, whose sandboxed `process` never emits 'exit' to test code, and for servers a benchmark
 * starts. Returns the goodbye: call it once the child has been stopped on purpose.
 */
export function startWatchdog(id: number, options: { processGroup?: boolean } = { processGroup: true }): () => void {
  const target = options.processGroup ? '-- "-$1"' : '"$1"';
  try {
    const dog = spawn('/bin/sh', ['-c', `IFS= read -r line; [ "$line" = done ] || kill -s KILL ${target} 2>/dev/null`, 'testkit-watchdog', String(id)], {
      stdio: ['pipe', 'ignore', 'ignore'],
      detached: true,
    });
    dog.on('error', () => undefined);
    dog.stdin?.on('error', () => undefined);
    dog.unref();
    (dog.stdin as unknown as { unref?: () => void } | null)?.unref?.();
    return () => {
      if (dog.stdin && !dog.stdin.destroyed) dog.stdin.end('done\n');
    };
  } catch {
    return () => undefined;
  }
}

const TSX_CLI = (): string => require.resolve('tsx/cli');

/**
 * The image's NODE_OPTIONS (Dockerfile): node-fetch 2 inside the bundle calls url.parse(), whose
 * deprecation Node hides only for code inside node_modules.
 */
const COMPILED_APP_NODE_FLAGS = ['--disable-warning=DEP0169'];

function codeOf(code: number | null, signal: NodeJS.Signals | null): number {
  if (code !== null) return code;
  const number = signal ? osConstants.signals[signal] : undefined;
  return 128 + (number ?? 0);
}

function tail(text: string, chars = 6_000): string {
  return text.length <= chars ? text : `…${text.slice(-chars)}`;
}

function safeFileName(name: string): string {
  return name.replace(/[^A-Za-z0-9._-]+/g, '_').slice(0, 60) || 'app';
}

let logsPruned = false;
/** Once per process: delete app logs older than two days from .run/test-logs/. */
function pruneOldLogs(dir: string): void {
  if (logsPruned) return;
  logsPruned = true;
  const cutoff = Date.now() - 2 * 24 * 3600 * 1000;
  try {
    for (const file of fs.readdirSync(dir)) {
      const full = path.join(dir, file);
      if (file.endsWith('.log') && fs.statSync(full).mtimeMs < cutoff) fs.rmSync(full, { force: true });
    }
  } catch {
    // best effort
  }
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Starts a TypeScript entry point of this repository as a separate Node process through tsx
 * (`process.execPath <tsx/cli> <entry>`), captures its output (in memory, bounded, and in a file under
 * `.run/test-logs/`), and waits until it is ready: `healthUrl` answers 200 or a line matches
 * `readyPattern` (with neither, as soon as it has started). If it exits before that, or is not ready
 * within `readyTimeoutMs`, it is killed and the returned promise rejects with its exit code and output.
 * Every process is registered for {@link stopAll}.
 */
export async function spawnApp(options: SpawnAppOptions): Promise<AppProcess> {
  const root = repoRoot();
  const entry = path.resolve(root, options.entry);
  if (!fs.existsSync(entry)) throw new Error(`spawnApp(${options.name}): entry ${options.entry} not found (looked at ${entry})`);
  const readyTimeoutMs = options.readyTimeoutMs ?? 30_000;
  const maxLogChars = options.maxLogChars ?? 1_000_000;
  const keepAlive = options.keepAlive ?? process.env.JEST_WORKER_ID === undefined;

  const env: Record<string, string> = {};
  if (process.env.PATH !== undefined) env.PATH = process.env.PATH;
  if (process.env.HOME !== undefined) env.HOME = process.env.HOME;
  for (const [key, value] of Object.entries(options.env ?? {})) if (value !== undefined) env[key] = value;

  const nodeArgs = options.runner === 'node' ? ['--enable-source-maps', ...COMPILED_APP_NODE_FLAGS, entry] : options.runner === 'import' ? ['--import', 'tsx', entry] : [TSX_CLI(), entry];
  const child = spawn(process.execPath, [...nodeArgs, ...(options.args ?? [])], {
    cwd: options.cwd ?? root,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true, // own process group, so kill() reaches tsx's child process too
  });
  if (child.pid === undefined) {
    const error = await new Promise<Error>((resolve) => child.once('error', resolve));
    throw new Error(`spawnApp(${options.name}): could not start ${process.execPath}: ${error.message}`);
  }
  const pid = child.pid;
  const releaseWatchdog = startWatchdog(pid);

  const logDir = path.join(root, '.run', 'test-logs');
  fs.mkdirSync(logDir, { recursive: true });
  pruneOldLogs(logDir);
  const logFile = path.join(logDir, `${safeFileName(options.name)}-${new Date().toISOString().replace(/[:.]/g, '-')}-${pid}.log`);
  const logStream = fs.createWriteStream(logFile, { flags: 'a' });
  logStream.on('error', () => undefined);
  logStream.write(`# ${options.name}: ${process.execPath} ${[...nodeArgs, ...(options.args ?? [])].join(' ')} (pid ${pid})\n`);

  let buffered = '';
  let dropped = 0;
  const lineListeners = new Set<(line: string) => void>();
  const partial: Record<'stdout' | 'stderr', string> = { stdout: '', stderr: '' };
  const emitLine = (line: string): void => {
    for (const listener of [...lineListeners]) listener(line);
  };
  const onData = (stream: 'stdout' | 'stderr') => (chunk: Buffer) => {
    const text = chunk.toString('utf8');
    logStream.write(text);
    buffered += text;
    if (buffered.length > maxLogChars) {
      dropped += buffered.length - maxLogChars;
      buffered = buffered.slice(buffered.length - maxLogChars);
    }
    const lines = (partial[stream] + text).split('\n');
    partial[stream] = lines.pop() ?? '';
    for (const line of lines) emitLine(line.replace(/\r$/, ''));
  };
  child.stdout?.on('data', onData('stdout'));
  child.stderr?.on('data', onData('stderr'));

  let exitCode: number | null = null;
  const exited = new Promise<number>((resolve) => {
    let settled = false;
    const finish = (code: number): void => {
      if (settled) return;
      settled = true;
      exitCode = code;
      for (const stream of ['stdout', 'stderr'] as const) if (partial[stream]) emitLine(partial[stream]);
      partial.stdout = partial.stderr = '';
      running.delete(entryRef);
      trackExitHook();
      releaseWatchdog();
      // Resolve once the log file is complete, so that readers of `logFile` see the whole output.
      const flushTimer = setTimeout(() => resolve(code), 2_000);
      flushTimer.unref();
      logStream.end(`\n# ${options.name} exited with code ${code}\n`, () => {
        clearTimeout(flushTimer);
        resolve(code);
      });
    };
    // 'close' comes after the output is fully read; 'exit' is the fallback when a grandchild keeps the pipes open.
    child.once('close', (code, signal) => finish(codeOf(code, signal)));
    child.once('exit', (code, signal) => {
      const result = codeOf(code, signal);
      setTimeout(() => finish(result), 2_000).unref();
    });
  });

  const logs = (): string => (dropped > 0 ? `…[${dropped} earlier characters dropped; see ${logFile}]\n${buffered}` : buffered);

  const killGroup = (): void => {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      try {
        child.kill('SIGKILL');
      } catch {
        // already gone
      }
    }
  };

  const waitForExit = async (timeoutMs?: number): Promise<number> => {
    if (timeoutMs === undefined) return exited;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${options.name} (pid ${pid}) did not exit within ${timeoutMs} ms`)), timeoutMs);
    });
    try {
      return await Promise.race([exited, timeout]);
    } finally {
      clearTimeout(timer);
    }
  };

  let stopping: Promise<number> | undefined;
  const app: AppProcess = {
    name: options.name,
    pid,
    logFile,
    logs,
    exitCode: () => exitCode,
    waitForLog: (pattern, timeoutMs = 10_000) =>
      new Promise<string>((resolve, reject) => {
        const matches = (line: string): boolean => (typeof pattern === 'string' ? line.includes(pattern) : new RegExp(pattern.source, pattern.flags.replace('g', '')).test(line));
        const earlier = buffered.split('\n').find(matches);
        if (earlier !== undefined) {
          resolve(earlier);
          return;
        }
        const cleanup = (): void => {
          clearTimeout(timer);
          lineListeners.delete(listener);
        };
        const listener = (line: string): void => {
          if (!matches(line)) return;
          cleanup();
          resolve(line);
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(new Error(`${options.name}: no output line matching ${String(pattern)} within ${timeoutMs} ms. Output:\n${tail(logs())}`));
        }, timeoutMs);
        lineListeners.add(listener);
        void exited.then((code) => {
          if (!lineListeners.has(listener)) return;
          cleanup();
          reject(new Error(`${options.name} exited (code ${code}) without printing a line matching ${String(pattern)}. Output:\n${tail(logs())}`));
        });
      }),
    waitForExit,
    stop: (signal = 'SIGTERM', timeoutMs = 10_000) => {
      if (exitCode !== null) return Promise.resolve(exitCode);
      stopping ??= (async () => {
        try {
          process.kill(pid, signal);
        } catch {
          // exited meanwhile
        }
        try {
          return await waitForExit(timeoutMs);
        } catch {
          logStream.write(`\n# testkit: ${options.name} ignored ${signal} for ${timeoutMs} ms; SIGKILL\n`);
          killGroup();
          return exited;
        }
      })();
      return stopping;
    },
    kill: killGroup,
  };
  const entryRef: Running = { app, child };
  running.add(entryRef);
  trackExitHook();
  if (!keepAlive) {
    child.unref();
    for (const stream of [child.stdout, child.stderr]) (stream as unknown as { unref?: () => void } | null)?.unref?.();
  }

  // ---- readiness ----
  if (!options.healthUrl && !options.readyPattern) return app;
  const failure = await new Promise<Error | undefined>((resolve) => {
    let settled = false;
    const settle = (error?: Error): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      lineListeners.delete(onLine);
      resolve(error);
    };
    const timer = setTimeout(
      () =>
        settle(
          new Error(
            `spawnApp(${options.name}): not ready within ${readyTimeoutMs} ms (waiting for ${[options.healthUrl && `${options.healthUrl} to answer 200`, options.readyPattern && `a line matching ${String(options.readyPattern)}`].filter(Boolean).join(' or ')}); log ${logFile}. Output:\n${tail(logs())}`,
          ),
        ),
      readyTimeoutMs,
    );
    const onLine = (line: string): void => {
      if (options.readyPattern && new RegExp(options.readyPattern.source, options.readyPattern.flags.replace('g', '')).test(line)) settle();
    };
    lineListeners.add(onLine);
    for (const line of buffered.split('\n')) onLine(line);
    void exited.then((code) =>
      settle(new Error(`spawnApp(${options.name}): exited with code ${code} before it was ready; log ${logFile}. Output:\n${tail(logs())}`)),
    );
    if (options.healthUrl) {
      const url = options.healthUrl;
      void (async () => {
        while (!settled) {
          try {
            const response = await fetch(url, { signal: AbortSignal.timeout(1_000) });
            await response.arrayBuffer().catch(() => undefined);
            if (response.status === 200) {
              settle();
              return;
            }
          } catch {
            // not listening yet
          }
          await sleep(50);
        }
      })();
    }
  });
  if (failure) {
    if (exitCode === null) {
      killGroup();
      await waitForExit(5_000).catch(() => undefined);
    }
    throw failure;
  }
  return app;
}

/**
 * Registers `fn` to run in {@link stopAll} after the apps are stopped (e.g. closing an emulator or a
 * database client). Cleanups run once, newest first.
 */
export function onCleanup(fn: () => unknown): void {
  cleanups.push(fn);
}

/**
 * Stops every app started by {@link spawnApp} that is still running (SIGTERM, SIGKILL after
 * `timeoutMs`, default 10000), newest first and in parallel, then runs the {@link onCleanup} functions.
 * Never throws (failures are reported with console.error); safe to call repeatedly, e.g.
 * `afterAll(stopAll)` in every test file that spawns processes.
 */
export async function stopAll(timeoutMs = 10_000): Promise<void> {
  const apps = [...running].reverse().map((r) => r.app);
  await Promise.all(apps.map((app) => app.stop('SIGTERM', timeoutMs).catch((error: unknown) => console.error(`stopAll: ${app.name}:`, error))));
  while (cleanups.length > 0) {
    const fn = cleanups.pop();
    try {
      await fn?.();
    } catch (error) {
      console.error('stopAll: cleanup failed:', error);
    }
  }
}

/** The apps started by {@link spawnApp} that have not exited yet. */
export function runningApps(): AppProcess[] {
  return [...running].map((r) => r.app);
}
