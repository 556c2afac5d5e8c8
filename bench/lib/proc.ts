/**
 * CPU time and resident memory of processes, read from Linux /proc (no dependency, no sampling
 * agent inside the measured process). The apps run under tsx's CLI, a small parent process that
 * relays signals to the node process running the app, so a measured "process" is a pid tree.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';

let clockTicks: number | undefined;

/** Kernel clock ticks per second (USER_HZ) for /proc/<pid>/stat times; 100 on Linux unless getconf says otherwise. */
export function clockTicksPerSecond(): number {
  if (clockTicks === undefined) {
    try {
      clockTicks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      clockTicks = 100;
    }
  }
  return clockTicks;
}

/** utime + stime of one process in ticks, or null when it is gone. */
export function cpuTicks(pid: number): number | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Field 2 (comm) may contain spaces and parentheses: the fixed fields start after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // After comm: state is field 3, so utime (14) and stime (15) are at indexes 11 and 12.
    return Number(fields[11]) + Number(fields[12]);
  } catch {
    return null;
  }
}

/** VmRSS of one process in bytes, or null when it is gone. */
export function rssBytes(pid: number): number | null {
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
    return m ? Number(m[1]) * 1024 : null;
  } catch {
    return null;
  }
}

/** `pid` and all its descendants (children of every thread), parents first; [] when it is gone. */
export function processTree(pid: number): number[] {
  const out: number[] = [];
  const visit = (p: number) => {
    if (!fs.existsSync(`/proc/${p}`)) return;
    out.push(p);
    let tasks: string[];
    try {
      tasks = fs.readdirSync(`/proc/${p}/task`);
    } catch {
      return;
    }
    for (const tid of tasks) {
      let children: string;
      try {
        children = fs.readFileSync(`/proc/${p}/task/${tid}/children`, 'utf8');
      } catch {
        continue;
      }
      for (const c of children.trim().split(/\s+/).filter(Boolean)) visit(Number(c));
    }
  };
  visit(pid);
  return out;
}

/** Pids whose command line (arguments joined by spaces) satisfies `match`. */
export function findPids(match: (cmdline: string) => boolean): number[] {
  const pids: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmdline = fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').join(' ').trim();
      if (cmdline && match(cmdline)) pids.push(Number(entry));
    } catch {
      // exited meanwhile
    }
  }
  return pids;
}

/** A named group of processes to measure, e.g. "worker-1" → the pid tree of that app. */
export interface ProcessGroup {
  name: string;
  /** Current pids of the group (re-read at every sample: a restarted app has new ones). */
  pids(): number[];
}

export interface GroupUsage {
  /** CPU time used in the window, as % of one core (200 = both cores of a 2-core machine busy). */
  cpuPct: number;
  /** Largest RSS of a single process of the group seen in the window (the app, not tsx's parent), MB. */
  rssMaxMb: number;
  /** RSS of that process at the last sample, MB. */
  rssLastMb: number;
}

/**
 * Samples CPU ticks and RSS of process groups once a second. `window()` returns each group's usage
 * since the last `mark()`. CPU time of a process that exited inside the window is lost (its last
 * sample counts), so a killed process under-reports slightly.
 */
export class ProcessSampler {
  private timer: NodeJS.Timeout | null = null;
  private readonly ticksAtMark = new Map<number, number>();
  private readonly lastTicks = new Map<number, number>();
  private readonly rss = new Map<string, { max: number; last: number }>();
  private markedAt = Date.now();

  constructor(private readonly groups: () => readonly ProcessGroup[]) {}

  start(intervalMs = 1000): void {
    this.mark();
    this.timer = setInterval(() => this.sample(), intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** Starts a new window. */
  mark(): void {
    this.ticksAtMark.clear();
    this.rss.clear();
    this.sample();
    for (const [pid, t] of this.lastTicks) this.ticksAtMark.set(pid, t);
    this.markedAt = Date.now();
  }

  sample(): void {
    for (const group of this.groups()) {
      let biggest = 0;
      for (const pid of group.pids()) {
        const t = cpuTicks(pid);
        if (t !== null) {
          this.lastTicks.set(pid, t);
          if (!this.ticksAtMark.has(pid)) this.ticksAtMark.set(pid, 0); // started inside the window
        }
        biggest = Math.max(biggest, rssBytes(pid) ?? 0);
      }
      const r = this.rss.get(group.name) ?? { max: 0, last: 0 };
      r.max = Math.max(r.max, biggest);
      r.last = biggest;
      this.rss.set(group.name, r);
    }
  }

  /** Usage of every group since `mark()`. */
  window(): Record<string, GroupUsage> {
    this.sample();
    const seconds = Math.max(0.001, (Date.now() - this.markedAt) / 1000);
    const hz = clockTicksPerSecond();
    const out: Record<string, GroupUsage> = {};
    const mb = (b: number) => Math.round((b / 1048576) * 10) / 10;
    for (const group of this.groups()) {
      let ticks = 0;
      for (const pid of group.pids()) ticks += (this.lastTicks.get(pid) ?? 0) - (this.ticksAtMark.get(pid) ?? 0);
      const r = this.rss.get(group.name) ?? { max: 0, last: 0 };
      out[group.name] = { cpuPct: Math.round((ticks / hz / seconds) * 1000) / 10, rssMaxMb: mb(r.max), rssLastMb: mb(r.last) };
    }
    return out;
  }
}

/** Busy and total CPU ticks of the whole machine (all cores) from /proc/stat, for "how busy was the host". */
export function machineCpuTicks(): { busy: number; total: number } {
  const line = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
  const v = line.trim().split(/\s+/).slice(1).map(Number);
  const total = v.slice(0, 8).reduce((a, b) => a + b, 0);
  const idle = (v[3] ?? 0) + (v[4] ?? 0); // idle + iowait
  return { busy: total - idle, total };
}
