/**
 * Reads what the worker processes logged about the LLM gateway (pino JSON lines, see
 * apps/worker/src/llm.ts) and derives the failover numbers from it:
 *   {"incident":"breaker","breaker":"provider:<name>","from","to","reason","at",…}   once cluster-wide
 *   {"msg":"provider call failed","provider","key","outcome","startedAt","ms"}          every failed call
 *   {"msg":"answered by fallback","provider","chainIndex","startedAt","failoverMs"}      every fallback answer
 *   {"msg":"update handled","updateId","outcome","replies",…}                            every job attempt
 * All times are epoch ms: `at` is Redis TIME, the others the worker's clock (the same host clock here).
 */
import fs from 'node:fs';

export type LogLine = Record<string, unknown>;

export interface BreakerIncident {
  worker: string;
  breaker: string;
  from: string;
  to: string;
  reason: string;
  at: number;
  source: string;
}

export interface FailedCall {
  worker: string;
  provider: string;
  outcome: string;
  startedAt: number;
  ms: number;
}

export interface FallbackAnswer {
  worker: string;
  provider: string;
  chainIndex: number;
  startedAt: number;
  failoverMs: number;
}

export interface HandledUpdate {
  worker: string;
  updateId: number;
  outcome: string;
  time: number;
}

export interface WorkerEvents {
  incidents: BreakerIncident[];
  failures: FailedCall[];
  fallbacks: FallbackAnswer[];
  handled: HandledUpdate[];
}

/** The JSON lines of a log (other lines, e.g. spawnApp's `# …` headers, are skipped). */
export function jsonLines(text: string): LogLine[] {
  const out: LogLine[] = [];
  for (const line of text.split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      out.push(JSON.parse(line) as LogLine);
    } catch {
      // a line cut by a crash: ignore
    }
  }
  return out;
}

const num = (v: unknown): number => (typeof v === 'number' ? v : Number(v));
const str = (v: unknown): string => (typeof v === 'string' ? v : String(v));

/** Extracts the gateway events of one worker's log lines. */
export function workerEvents(worker: string, lines: readonly LogLine[]): WorkerEvents {
  const events: WorkerEvents = { incidents: [], failures: [], fallbacks: [], handled: [] };
  for (const l of lines) {
    if (l.incident === 'breaker') {
      events.incidents.push({ worker, breaker: str(l.breaker), from: str(l.from), to: str(l.to), reason: str(l.reason), at: num(l.at), source: str(l.source) });
    } else if (l.msg === 'provider call failed') {
      events.failures.push({ worker, provider: str(l.provider), outcome: str(l.outcome), startedAt: num(l.startedAt), ms: num(l.ms) });
    } else if (l.msg === 'answered by fallback') {
      events.fallbacks.push({ worker, provider: str(l.provider), chainIndex: num(l.chainIndex), startedAt: num(l.startedAt), failoverMs: num(l.failoverMs) });
    } else if (l.msg === 'update handled') {
      events.handled.push({ worker, updateId: num(l.updateId), outcome: str(l.outcome), time: num(l.time) });
    }
  }
  return events;
}

export function readWorkerEvents(worker: string, file: string): WorkerEvents {
  return workerEvents(worker, jsonLines(fs.readFileSync(file, 'utf8')));
}

export function mergeEvents(all: readonly WorkerEvents[]): WorkerEvents {
  const by = <T extends { at?: number; startedAt?: number; time?: number }>(items: T[]) => items.sort((a, b) => (a.at ?? a.startedAt ?? a.time ?? 0) - (b.at ?? b.startedAt ?? b.time ?? 0));
  return {
    incidents: by(all.flatMap((e) => e.incidents)),
    failures: by(all.flatMap((e) => e.failures)),
    fallbacks: by(all.flatMap((e) => e.fallbacks)),
    handled: by(all.flatMap((e) => e.handled)),
  };
}

/** Per worker: how long after the breaker opened it still started calls to the primary. */
export interface Propagation {
  worker: string;
  /** startedAt of the worker's last failed primary call in [open, next transition) minus the open `at`; 0 if none. */
  routeMs: number;
  /** How many primary calls the worker started in that interval. */
  callsAfterOpen: number;
}

/**
 * The per-process propagation of one opening: for each worker, from the open transition's `at` to
 * the start of that worker's last failed call to `provider` that started at or after `at` and before
 * the breaker's next transition (the half-open probe is a legitimate call, not a late one).
 */
export function propagation(workers: readonly string[], events: WorkerEvents, provider: string, open: BreakerIncident): Propagation[] {
  const next = events.incidents.find((i) => i.breaker === open.breaker && i.at > open.at);
  const until = next?.at ?? Infinity;
  return workers.map((worker) => {
    const late = events.failures.filter((f) => f.worker === worker && f.provider === provider && f.startedAt >= open.at && f.startedAt < until);
    const last = late.reduce((m, f) => Math.max(m, f.startedAt), -Infinity);
    return { worker, routeMs: late.length ? last - open.at : 0, callsAfterOpen: late.length };
  });
}

/** "closed→open +10.02 s (consecutive_failures, worker-2)" lines for the report. */
export function describeIncidents(incidents: readonly BreakerIncident[], t0: number): string[] {
  return incidents.map((i) => `${i.breaker}: ${i.from}→${i.to} at +${((i.at - t0) / 1000).toFixed(3)} s (${i.reason}, logged by ${i.worker}${i.source === 'local' ? ', LOCAL' : ''})`);
}
