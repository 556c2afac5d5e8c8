/**
 * Summarizes a V8 .cpuprofile (written by `node --cpu-prof`): self time by function and by the
 * package the code belongs to (a dependency from node_modules, one of our workspace packages, or
 * Node itself), so a profile of a worker under load says where its CPU goes.
 */

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}

interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}

export interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

export interface ProfileEntry {
  name: string;
  selfMs: number;
  /** Share of the non-idle time, %. */
  pct: number;
}

export interface ProfileSummary {
  /** Profiled wall time, ms. */
  wallMs: number;
  /** Time with JavaScript, GC or native work on the main thread (not "(idle)"), ms. */
  busyMs: number;
  byFunction: ProfileEntry[];
  byPackage: ProfileEntry[];
}

const SPECIAL = new Set(['(idle)', '(program)', '(garbage collector)', '(root)']);

/** Which package a script URL belongs to: `mongodb`, `@inner-talk/queue` (as packages/queue), `node:internal`, … */
export function packageOf(url: string, functionName = ''): string {
  if (SPECIAL.has(functionName)) return functionName;
  if (!url) return '(native)';
  if (url.startsWith('node:')) return 'node (built-in)';
  const path = url.replace(/^file:\/\//, '');
  const nm = path.lastIndexOf('/node_modules/');
  if (nm >= 0) {
    const rest = path.slice(nm + '/node_modules/'.length).split('/');
    return rest[0]!.startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]!;
  }
  const ws = /\/(apps|packages)\/([^/]+)\//.exec(path);
  if (ws) return `${ws[1]}/${ws[2]}`;
  return path.split('/').slice(-2).join('/');
}

/** Self time per function and per package, largest first (top `limit` of each). */
export function summarizeProfile(profile: CpuProfile, limit = 15): ProfileSummary {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfUs = new Map<number, number>();
  // timeDeltas[i] is the time between sample i-1 and sample i; attribute it to sample i's node.
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i]!;
    selfUs.set(id, (selfUs.get(id) ?? 0) + Math.max(0, profile.timeDeltas[i] ?? 0));
  }
  const fn = new Map<string, number>();
  const pkg = new Map<string, number>();
  let busy = 0;
  for (const [id, us] of selfUs) {
    const node = byId.get(id);
    if (!node) continue;
    const { functionName, url, lineNumber } = node.callFrame;
    if (functionName === '(idle)') continue;
    busy += us;
    const where = url ? `${packageOf(url)} ${url.split('/').slice(-1)[0]}:${lineNumber + 1}` : '';
    const key = `${functionName || '(anonymous)'}${where ? ` — ${where}` : ''}`;
    fn.set(key, (fn.get(key) ?? 0) + us);
    const p = packageOf(url, functionName);
    pkg.set(p, (pkg.get(p) ?? 0) + us);
  }
  const top = (m: Map<string, number>) =>
    [...m.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, limit)
      .map(([name, us]) => ({ name, selfMs: Math.round(us / 100) / 10, pct: busy ? Math.round((us / busy) * 1000) / 10 : 0 }));
  return { wallMs: Math.round((profile.endTime - profile.startTime) / 1000), busyMs: Math.round(busy / 1000), byFunction: top(fn), byPackage: top(pkg) };
}
