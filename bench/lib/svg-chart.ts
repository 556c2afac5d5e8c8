/**
 * The scaling chart as a self-contained SVG (no dependency): left, throughput against offered load
 * (with the "keeps up" diagonal); right, overhead p99 against offered load on a log scale with the
 * 100 ms limit. One line per worker count; a step that lost messages is marked with a cross.
 */

export interface ChartPoint {
  offered: number;
  throughput: number;
  overheadP99: number | null;
  e2eP99: number | null;
  lost: number;
}

export interface ChartSeries {
  label: string;
  points: ChartPoint[];
}

export interface ChartOptions {
  title: string;
  subtitle?: string;
  /** Horizontal limit line on the overhead panel (ms). */
  overheadLimitMs?: number;
}

const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b'];

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** Round numbers for a linear axis from 0 to at least `max`. */
export function linearTicks(max: number, count = 5): number[] {
  if (!(max > 0)) return [0, 1];
  const raw = max / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  const ticks: number[] = [];
  for (let v = 0; v < max + step * 0.999; v += step) ticks.push(Math.round(v * 1e6) / 1e6);
  return ticks;
}

/** 1-2-5 ticks for a log axis covering [min, max]. */
export function logTicks(min: number, max: number): number[] {
  const lo = Math.floor(Math.log10(Math.max(min, 1e-3)));
  const hi = Math.ceil(Math.log10(Math.max(max, min * 10, 1e-3)));
  const ticks: number[] = [];
  for (let e = lo; e <= hi; e++) for (const m of [1, 2, 5]) ticks.push(m * 10 ** e);
  return ticks.filter((t) => t >= 10 ** lo && t <= 10 ** hi);
}

const fmt = (v: number) => (v >= 1000 ? `${Math.round(v / 100) / 10}k`.replace('.0k', 'k') : String(Math.round(v * 100) / 100));

interface Panel {
  x: number;
  y: number;
  w: number;
  h: number;
}

/** Renders the chart. Deterministic: the same input gives the same bytes. */
export function scalingChartSvg(series: readonly ChartSeries[], options: ChartOptions): string {
  const W = 1000;
  const H = 470;
  const left: Panel = { x: 70, y: 80, w: 380, h: 310 };
  const right: Panel = { x: 580, y: 80, w: 380, h: 310 };
  const all = series.flatMap((s) => s.points);
  const maxOffered = Math.max(1, ...all.map((p) => p.offered));
  const xTicks = linearTicks(maxOffered);
  const xMax = xTicks[xTicks.length - 1]!;
  const yTicksT = linearTicks(Math.max(maxOffered, ...all.map((p) => p.throughput)));
  const yMaxT = yTicksT[yTicksT.length - 1]!;
  const limit = options.overheadLimitMs ?? 100;
  const overheads = all.map((p) => p.overheadP99).filter((v): v is number => v !== null && v > 0);
  const yTicksO = logTicks(Math.min(limit, ...overheads, 10), Math.max(limit, ...overheads));
  const oMin = yTicksO[0]!;
  const oMax = yTicksO[yTicksO.length - 1]!;

  const px = (p: Panel, v: number) => p.x + (v / xMax) * p.w;
  const pyT = (v: number) => left.y + left.h - (v / yMaxT) * left.h;
  const pyO = (v: number) => right.y + right.h - ((Math.log10(Math.max(v, oMin)) - Math.log10(oMin)) / (Math.log10(oMax) - Math.log10(oMin))) * right.h;

  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="Helvetica, Arial, sans-serif" font-size="12">`);
  out.push(`<rect width="${W}" height="${H}" fill="#ffffff"/>`);
  out.push(`<text x="${W / 2}" y="26" text-anchor="middle" font-size="16" font-weight="bold">${esc(options.title)}</text>`);
  if (options.subtitle) out.push(`<text x="${W / 2}" y="46" text-anchor="middle" fill="#555">${esc(options.subtitle)}</text>`);

  const frame = (p: Panel, title: string, yLabel: string, yTicks: number[], py: (v: number) => number) => {
    out.push(`<text x="${p.x + p.w / 2}" y="${p.y - 12}" text-anchor="middle" font-weight="bold">${esc(title)}</text>`);
    for (const t of yTicks) {
      const y = py(t).toFixed(1);
      out.push(`<line x1="${p.x}" y1="${y}" x2="${p.x + p.w}" y2="${y}" stroke="#e5e5e5"/>`);
      out.push(`<text x="${p.x - 6}" y="${y}" text-anchor="end" dominant-baseline="middle" fill="#333">${fmt(t)}</text>`);
    }
    for (const t of xTicks) {
      const x = px(p, t).toFixed(1);
      out.push(`<line x1="${x}" y1="${p.y}" x2="${x}" y2="${p.y + p.h}" stroke="#f0f0f0"/>`);
      out.push(`<text x="${x}" y="${p.y + p.h + 16}" text-anchor="middle" fill="#333">${fmt(t)}</text>`);
    }
    out.push(`<rect x="${p.x}" y="${p.y}" width="${p.w}" height="${p.h}" fill="none" stroke="#333"/>`);
    out.push(`<text x="${p.x + p.w / 2}" y="${p.y + p.h + 36}" text-anchor="middle">offered load (messages/s)</text>`);
    out.push(`<text transform="translate(${p.x - 48},${p.y + p.h / 2}) rotate(-90)" text-anchor="middle">${esc(yLabel)}</text>`);
  };
  frame(left, 'Throughput', 'replies/s', yTicksT, pyT);
  frame(right, 'Our overhead p99 (end-to-end − LLM time)', 'ms (log scale)', yTicksO, pyO);

  // Reference lines: the diagonal (served = offered) and the overhead limit.
  out.push(`<line x1="${px(left, 0)}" y1="${pyT(0)}" x2="${px(left, Math.min(xMax, yMaxT)).toFixed(1)}" y2="${pyT(Math.min(xMax, yMaxT)).toFixed(1)}" stroke="#999" stroke-dasharray="5,4"/>`);
  out.push(`<text x="${(px(left, Math.min(xMax, yMaxT)) - 4).toFixed(1)}" y="${(pyT(Math.min(xMax, yMaxT)) + 14).toFixed(1)}" text-anchor="end" fill="#777">served = offered</text>`);
  const ly = pyO(limit).toFixed(1);
  out.push(`<line x1="${right.x}" y1="${ly}" x2="${right.x + right.w}" y2="${ly}" stroke="#d62728" stroke-dasharray="6,4"/>`);
  out.push(`<text x="${right.x + right.w - 4}" y="${(pyO(limit) - 6).toFixed(1)}" text-anchor="end" fill="#d62728">${limit} ms limit</text>`);

  series.forEach((s, i) => {
    const color = COLORS[i % COLORS.length]!;
    const pts = [...s.points].sort((a, b) => a.offered - b.offered);
    const line = (coords: string[]) => coords.length > 1 && out.push(`<polyline fill="none" stroke="${color}" stroke-width="2" points="${coords.join(' ')}"/>`);
    line(pts.map((p) => `${px(left, p.offered).toFixed(1)},${pyT(p.throughput).toFixed(1)}`));
    line(pts.filter((p) => p.overheadP99 !== null).map((p) => `${px(right, p.offered).toFixed(1)},${pyO(p.overheadP99!).toFixed(1)}`));
    for (const p of pts) {
      const marks: Array<[number, number]> = [[px(left, p.offered), pyT(p.throughput)]];
      if (p.overheadP99 !== null) marks.push([px(right, p.offered), pyO(p.overheadP99)]);
      for (const [x, y] of marks) {
        if (p.lost > 0) {
          out.push(`<path d="M${(x - 5).toFixed(1)},${(y - 5).toFixed(1)}L${(x + 5).toFixed(1)},${(y + 5).toFixed(1)}M${(x - 5).toFixed(1)},${(y + 5).toFixed(1)}L${(x + 5).toFixed(1)},${(y - 5).toFixed(1)}" stroke="${color}" stroke-width="2.5"/>`);
        } else {
          out.push(`<circle cx="${x.toFixed(1)}" cy="${y.toFixed(1)}" r="3.5" fill="${color}"/>`);
        }
      }
    }
    const lx = 70 + i * 150;
    out.push(`<line x1="${lx}" y1="${H - 22}" x2="${lx + 24}" y2="${H - 22}" stroke="${color}" stroke-width="2"/>`);
    out.push(`<text x="${lx + 30}" y="${H - 18}">${esc(s.label)}</text>`);
  });
  out.push(`<text x="${W - 20}" y="${H - 18}" text-anchor="end" fill="#555">× = messages lost in that step</text>`);
  out.push('</svg>');
  return out.join('\n') + '\n';
}
