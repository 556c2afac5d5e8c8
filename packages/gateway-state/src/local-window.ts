/**
 * The rate limiter's per-process fallback while Redis is unavailable: the same sliding-log rules as
 * rate_acquire.lua, on this process's clock, with each limit scaled by the process's share.
 * It cannot see other processes' calls; the share (e.g. 1 / number of workers) is what keeps the
 * cluster's total near the real limit during an outage.
 */
interface Entry {
  id: string;
  atMs: number;
  tokens: number;
}

interface ScopeLog {
  entries: Entry[];
  tokens: number;
}

export type LocalAcquire = { ok: true; atMs: number } | { ok: false; reason: 'rpm' | 'tpm'; retryAfterMs: number };

export class LocalRateWindows {
  private readonly scopes = new Map<string, ScopeLog>();

  constructor(private readonly windowMs: number) {}

  private log(scope: string, now: number): ScopeLog | undefined {
    const log = this.scopes.get(scope);
    if (!log) return undefined;
    const cutoff = now - this.windowMs;
    let drop = 0;
    while (drop < log.entries.length && log.entries[drop]!.atMs <= cutoff) {
      log.tokens -= log.entries[drop]!.tokens;
      drop++;
    }
    if (drop > 0) log.entries.splice(0, drop);
    if (log.entries.length === 0) {
      // Forget idle scopes so the fallback does not grow with every scope ever seen.
      this.scopes.delete(scope);
      return undefined;
    }
    return log;
  }

  tryAcquire(scope: string, rpm: number | undefined, tpm: number | undefined, estimate: number, id: string, now = Date.now()): LocalAcquire {
    const log = this.log(scope, now);
    const entries = log?.entries ?? [];
    const tokens = log?.tokens ?? 0;
    let waitRpm = -1;
    let waitTpm = -1;
    if (rpm !== undefined && entries.length + 1 > rpm) waitRpm = entries[entries.length - rpm]!.atMs + this.windowMs - now;
    if (tpm !== undefined && tokens + estimate > tpm) {
      const needed = tokens + estimate - tpm;
      let freed = 0;
      waitTpm = this.windowMs;
      for (const entry of entries) {
        freed += entry.tokens;
        if (freed >= needed) {
          waitTpm = entry.atMs + this.windowMs - now;
          break;
        }
      }
    }
    if (waitRpm >= 0 || waitTpm >= 0) {
      return waitRpm >= waitTpm ? { ok: false, reason: 'rpm', retryAfterMs: Math.max(1, waitRpm) } : { ok: false, reason: 'tpm', retryAfterMs: Math.max(1, waitTpm) };
    }
    const target = log ?? { entries: [], tokens: 0 };
    // Keep the log ordered even if the wall clock stepped back.
    const atMs = Math.max(now, target.entries[target.entries.length - 1]?.atMs ?? now);
    target.entries.push({ id, atMs, tokens: estimate });
    target.tokens += estimate;
    this.scopes.set(scope, target);
    return { ok: true, atMs };
  }

  reconcile(scope: string, id: string, actual: number): boolean {
    const entry = this.scopes.get(scope)?.entries.find((e) => e.id === id);
    if (!entry) return false;
    this.scopes.get(scope)!.tokens += actual - entry.tokens;
    entry.tokens = actual;
    return true;
  }

  release(scope: string, id: string): boolean {
    const log = this.scopes.get(scope);
    const index = log?.entries.findIndex((e) => e.id === id) ?? -1;
    if (!log || index < 0) return false;
    log.tokens -= log.entries[index]!.tokens;
    log.entries.splice(index, 1);
    return true;
  }

  usage(scope: string, now = Date.now()): { count: number; tokens: number } {
    const log = this.log(scope, now);
    return { count: log?.entries.length ?? 0, tokens: log?.tokens ?? 0 };
  }
}
