/** Small statistics helpers for the benchmarks (nearest-rank percentiles, no interpolation). */

/** The p-th percentile (0–100) by nearest rank; null for no samples. */
export function percentile(values: readonly number[], p: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))] ?? null;
}

export function max(values: readonly number[]): number | null {
  return values.length === 0 ? null : values.reduce((a, b) => Math.max(a, b), -Infinity);
}

/** Rounds to 0.1 ms (log timestamps are whole ms; keep the JSON short). */
export function round(value: number | null): number | null {
  return value === null ? null : Math.round(value * 10) / 10;
}

/** "p50 12 / p99 80 / max 95 ms (n=300)" for progress output. */
export function summary(values: readonly number[], unit = 'ms'): string {
  if (values.length === 0) return 'n=0';
  return `p50 ${percentile(values, 50)} / p99 ${percentile(values, 99)} / max ${max(values)} ${unit} (n=${values.length})`;
}
