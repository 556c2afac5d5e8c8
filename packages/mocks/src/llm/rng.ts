import type { LatencySpec } from './types';

/** A uniform random source on [0, 1). */
export type Rng = () => number;

// z such that P(Z < z) = 0.99 for a standard normal: turns a p99 into a log-normal sigma.
const Z_99 = 2.3263478740408408;

/**
 * Seeded PRNG (mulberry32). Guarantees: the same seed yields the same sequence on every platform;
 * values are in [0, 1). Not cryptographic — only for reproducible latency in tests and benchmarks.
 */
export function createRng(seed: number): Rng {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function standardNormal(rng: Rng): number {
  // Box–Muller; 1 - u keeps the argument of log in (0, 1].
  const u1 = 1 - rng();
  const u2 = rng();
  return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
}

/** The log-normal sigma a spec implies (explicit sigma wins over p99Ms). */
export function lognormalSigma(spec: Extract<LatencySpec, { kind: 'lognormal' }>): number {
  if (spec.sigma !== undefined) return spec.sigma;
  if (spec.p99Ms !== undefined) return Math.log(spec.p99Ms / spec.medianMs) / Z_99;
  throw new Error('lognormal latency needs sigma or p99Ms');
}

/**
 * One latency sample in whole milliseconds. Guarantees: never negative; 'none' is 0; 'fixed' is its ms;
 * 'lognormal' has the given median, the given p99 (or sigma), and is capped at maxMs when set.
 * Draws from `rng` only for 'lognormal', so fixed latency does not disturb a seeded sequence.
 */
export function sampleLatencyMs(spec: LatencySpec, rng: Rng): number {
  switch (spec.kind) {
    case 'none':
      return 0;
    case 'fixed':
      return Math.max(0, Math.round(spec.ms));
    case 'lognormal': {
      const ms = spec.medianMs * Math.exp(lognormalSigma(spec) * standardNormal(rng));
      const capped = spec.maxMs === undefined ? ms : Math.min(ms, spec.maxMs);
      return Math.max(0, Math.round(capped));
    }
  }
}
