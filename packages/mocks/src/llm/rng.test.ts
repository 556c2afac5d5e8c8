import { createRng, lognormalSigma, sampleLatencyMs } from './rng';

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;
}

describe('createRng', () => {
  it('repeats a sequence for the same seed and differs for another', () => {
    const a = createRng(42);
    const b = createRng(42);
    const c = createRng(43);
    const seqA = Array.from({ length: 5 }, () => a());
    expect(Array.from({ length: 5 }, () => b())).toEqual(seqA);
    expect(Array.from({ length: 5 }, () => c())).not.toEqual(seqA);
    for (const x of seqA) expect(x >= 0 && x < 1).toBe(true);
  });
});

describe('sampleLatencyMs', () => {
  it('returns 0 for none and the value for fixed, without drawing from the rng', () => {
    const rng = jest.fn(() => 0.5);
    expect(sampleLatencyMs({ kind: 'none' }, rng)).toBe(0);
    expect(sampleLatencyMs({ kind: 'fixed', ms: 120 }, rng)).toBe(120);
    expect(rng).not.toHaveBeenCalled();
  });

  it('hits the requested median and p99 of a log-normal', () => {
    const rng = createRng(7);
    const spec = { kind: 'lognormal', medianMs: 400, p99Ms: 3000 } as const;
    const samples = Array.from({ length: 20000 }, () => sampleLatencyMs(spec, rng)).sort((x, y) => x - y);
    expect(quantile(samples, 0.5)).toBeGreaterThan(380);
    expect(quantile(samples, 0.5)).toBeLessThan(420);
    expect(quantile(samples, 0.99)).toBeGreaterThan(2600);
    expect(quantile(samples, 0.99)).toBeLessThan(3400);
  });

  it('caps at maxMs and derives sigma from p99 only when sigma is absent', () => {
    const rng = createRng(1);
    const capped = Array.from({ length: 2000 }, () => sampleLatencyMs({ kind: 'lognormal', medianMs: 100, sigma: 2, maxMs: 250 }, rng));
    expect(Math.max(...capped)).toBe(250);
    expect(lognormalSigma({ kind: 'lognormal', medianMs: 100, sigma: 0.3, p99Ms: 10000 })).toBe(0.3);
    expect(lognormalSigma({ kind: 'lognormal', medianMs: 100, p99Ms: 100 })).toBe(0);
  });
});
