/**
 * Redis for load benchmarks: a private redis-server (so INFO commandstats counts only the
 * benchmark's commands, and its CPU is the benchmark's) and command counts from INFO commandstats.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Redis } from 'ioredis';
import { freePort } from '@inner-talk/testkit';

/** Calls per command (lower case, e.g. `evalsha`, `hincrby`) from the text of `INFO commandstats`. */
export function parseCommandStats(info: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of info.split(/\r?\n/)) {
    const m = /^cmdstat_([^:]+):calls=(\d+)/.exec(line);
    if (m) out[m[1]!.toLowerCase()] = Number(m[2]);
  }
  return out;
}

/** after − before per command, leaving out commands with no new calls and `ignore` (e.g. the probe's own INFO). */
export function commandDelta(before: Record<string, number>, after: Record<string, number>, ignore: readonly string[] = ['info']): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [cmd, n] of Object.entries(after)) {
    if (ignore.includes(cmd)) continue;
    const d = n - (before[cmd] ?? 0);
    if (d > 0) out[cmd] = d;
  }
  return out;
}

export async function commandStats(redis: Redis): Promise<Record<string, number>> {
  return parseCommandStats(await redis.info('commandstats'));
}

export interface PrivateRedis {
  url: string;
  pid: number;
  version: string;
  stop(): Promise<void>;
}

/**
 * Starts redis-server from PATH on a free loopback port with the settings scripts/services.sh gives
 * the test Redis (AOF with fsync every second, noeviction, no RDB snapshots), data in a temporary
 * directory removed on stop. Rejects when redis-server is missing or does not answer within 10 s.
 */
export async function startPrivateRedis(): Promise<PrivateRedis> {
  const port = await freePort();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'inner-talk-bench-redis-'));
  const child: ChildProcess = spawn(
    'redis-server',
    ['--bind', '127.0.0.1', '--port', String(port), '--dir', dir, '--appendonly', 'yes', '--appendfsync', 'everysec', '--maxmemory-policy', 'noeviction', '--save', '', '--logfile', ''],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  child.stdout?.on('data', (c: Buffer) => void (output = (output + c.toString()).slice(-4000)));
  child.stderr?.on('data', (c: Buffer) => void (output = (output + c.toString()).slice(-4000)));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const spawnError = new Promise<never>((_, reject) => child.once('error', reject));
  const ready = (async () => {
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline) {
      if (/Ready to accept connections/.test(output)) return;
      if (child.exitCode !== null) throw new Error(`redis-server exited (${child.exitCode}): ${output}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`redis-server did not start within 10 s: ${output}`);
  })();
  try {
    await Promise.race([ready, spawnError]);
  } catch (error) {
    child.kill('SIGKILL');
    fs.rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  const version = /v=([\d.]+)/.exec(output)?.[1] ?? /Redis version=([\d.]+)/.exec(output)?.[1] ?? '?';
  return {
    url: `redis://127.0.0.1:${port}`,
    pid: child.pid!,
    version,
    stop: async () => {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
        if (child.exitCode === null) child.kill('SIGKILL');
      }
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
