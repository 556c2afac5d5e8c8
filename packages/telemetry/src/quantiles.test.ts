import { bucketIndex, histogramQuantile } from './index';

// Non-cumulative counts, the last one for +Inf (as ClusterMetricsWriter stores them).
const BOUNDS = [1, 2, 4];

describe('histogramQuantile (Prometheus histogram_quantile semantics)', () => {
  it('interpolates linearly inside the bucket that holds the rank', () => {
    expect(histogramQuantile(0.5, BOUNDS, [0, 10, 0, 0])).toBeCloseTo(1.5, 12);
    expect(histogramQuantile(0.95, BOUNDS, [0, 10, 0, 0])).toBeCloseTo(1.95, 12);
    expect(histogramQuantile(0.99, BOUNDS, [0, 10, 0, 0])).toBeCloseTo(1.99, 12);
    // Rank 7.5 of 10: 5 below 1, so 2.5 of the 5 in (1, 2].
    expect(histogramQuantile(0.75, BOUNDS, [5, 5, 0, 0])).toBeCloseTo(1.5, 12);
    // Rank 9 of 10 falls in (2, 4] holding 2 observations, the first of them: 2 + 2 × 1/2.
    expect(histogramQuantile(0.9, BOUNDS, [4, 4, 2, 0])).toBeCloseTo(3, 12);
  });

  it('starts the lowest bucket at 0', () => {
    expect(histogramQuantile(0.5, BOUNDS, [10, 0, 0, 0])).toBeCloseTo(0.5, 12);
    expect(histogramQuantile(0.5, [0.005, 0.01], [4, 0, 0])).toBeCloseTo(0.0025, 12);
  });

  it('answers the upper bound of the bucket where the rank is reached exactly', () => {
    expect(histogramQuantile(0.5, BOUNDS, [5, 5, 0, 0])).toBe(1);
    expect(histogramQuantile(1, BOUNDS, [5, 5, 0, 0])).toBe(2);
  });

  it('answers the highest finite bound when the rank lies in +Inf', () => {
    expect(histogramQuantile(0.5, BOUNDS, [0, 0, 0, 5])).toBe(4);
    expect(histogramQuantile(0.99, BOUNDS, [90, 0, 0, 10])).toBe(4);
  });

  it('answers NaN without observations and ±Inf / NaN for q outside [0, 1]', () => {
    expect(histogramQuantile(0.5, BOUNDS, [0, 0, 0, 0])).toBeNaN();
    expect(histogramQuantile(0.5, [], [3])).toBeNaN();
    expect(histogramQuantile(-0.1, BOUNDS, [1, 0, 0, 0])).toBe(-Infinity);
    expect(histogramQuantile(1.1, BOUNDS, [1, 0, 0, 0])).toBe(Infinity);
    expect(histogramQuantile(NaN, BOUNDS, [1, 0, 0, 0])).toBeNaN();
  });

  it('rejects bucket counts that do not match the bounds', () => {
    expect(() => histogramQuantile(0.5, BOUNDS, [1, 2, 3])).toThrow(RangeError);
  });

  it('always lands in the bucket of the true sample quantile and grows with q (random samples)', () => {
    const bounds = [5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000];
    let seed = 42;
    const random = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    for (let round = 0; round < 200; round++) {
      const n = 1 + Math.floor(random() * 300);
      const samples = Array.from({ length: n }, () => Math.exp(random() * Math.log(8000)));
      const counts = new Array<number>(bounds.length + 1).fill(0);
      for (const v of samples) counts[bucketIndex(bounds, v)]! += 1;
      samples.sort((a, b) => a - b);
      let previous = -Infinity;
      for (const q of [0.01, 0.25, 0.5, 0.9, 0.95, 0.99, 1]) {
        const estimate = histogramQuantile(q, bounds, counts);
        // Nearest-rank quantile of the raw samples: the observation the interpolation stands for.
        const exact = samples[Math.max(0, Math.ceil(q * n) - 1)]!;
        const b = bucketIndex(bounds, exact);
        if (b === bounds.length) {
          expect(estimate).toBe(bounds[bounds.length - 1]);
        } else {
          expect(estimate).toBeGreaterThanOrEqual(b === 0 ? 0 : bounds[b - 1]!);
          expect(estimate).toBeLessThanOrEqual(bounds[b]!);
        }
        expect(estimate).toBeGreaterThanOrEqual(previous);
        previous = estimate;
      }
    }
  });
});
