/**
 * Quantiles from histogram buckets, computed exactly as Prometheus' `histogram_quantile` does for
 * classic histograms (promql/quantile.go, `bucketQuantile`), so the recent-window quantiles on
 * /metrics and the p50/p95/p99 panels in Grafana agree when they look at the same observations:
 *
 * - rank = q × total observations; the answer lies in the first bucket whose cumulative count
 *   reaches the rank, interpolated linearly between that bucket's lower and upper bound (the lowest
 *   bucket's lower bound is 0, observations being non-negative durations);
 * - a rank that falls into the +Inf bucket answers the highest finite bound (a histogram cannot
 *   say more); no observations at all answers NaN, like Prometheus;
 * - q < 0 answers -Inf, q > 1 +Inf, NaN q answers NaN.
 *
 * The result has the unit of the bounds. Accuracy is that of the buckets: within one bucket the
 * value is an interpolation, not an observation.
 */
export function histogramQuantile(q: number, upperBounds: readonly number[], counts: readonly number[]): number {
  if (Number.isNaN(q)) return NaN;
  if (q < 0) return -Infinity;
  if (q > 1) return Infinity;
  if (counts.length !== upperBounds.length + 1) {
    throw new RangeError(`histogramQuantile: ${counts.length} bucket counts for ${upperBounds.length} bounds (+Inf needs one more)`);
  }
  if (upperBounds.length === 0) return NaN; // only +Inf: Prometheus needs at least two buckets
  const cumulative: number[] = [];
  let total = 0;
  for (const c of counts) {
    total += Math.max(0, c);
    cumulative.push(total);
  }
  if (total === 0) return NaN;
  const rank = q * total;
  // First finite bucket whose cumulative count reaches the rank; none: the +Inf bucket.
  let b = 0;
  while (b < upperBounds.length && cumulative[b]! < rank) b++;
  if (b === upperBounds.length) return upperBounds[upperBounds.length - 1]!;
  if (b === 0 && upperBounds[0]! <= 0) return upperBounds[0]!;
  const end = upperBounds[b]!;
  let start = 0;
  let count = cumulative[b]!;
  let rankInBucket = rank;
  if (b > 0) {
    start = upperBounds[b - 1]!;
    count -= cumulative[b - 1]!;
    rankInBucket -= cumulative[b - 1]!;
  }
  return start + (end - start) * (rankInBucket / count);
}
