import { createRng, sampleLatencyMs, type Rng } from './rng';
import type { MockFault, MockFaultSource, MockLlmConfig, MockOutcomeKind, MockProvider, MockRequestRecord, MockStats } from './types';
import { assertConsistentConfig } from './validate';

export const DEFAULT_CONFIG: MockLlmConfig = {
  latency: { kind: 'none' },
  cachedTokens: 0,
  reasoningTokens: 0,
  thinkingTokens: 64,
  seed: 1,
  validApiKeys: null,
  errorRate: 0,
  errorStatus: 503,
  rateLimitRate: 0,
  retryAfterMs: 1000,
  retryAfterHeaders: 'both',
  timeoutRate: 0,
  down: false,
  downMode: 'error',
  quotaExhausted: false,
};

/** The patch that turns every standing fault off (see MockState.clearFaults). */
export const NO_STANDING_FAULTS: Partial<MockLlmConfig> = {
  errorRate: 0,
  rateLimitRate: 0,
  timeoutRate: 0,
  down: false,
  quotaExhausted: false,
};

/** A standing fault drawn by rate for one request. */
export type RateFault = Extract<MockFaultSource, 'errorRate' | 'rateLimitRate' | 'timeoutRate'>;

const RATE_FIELDS = ['errorRate', 'rateLimitRate', 'timeoutRate'] as const;

// The fault RNG gets its own stream so that turning faults on or off does not shift the latency samples.
const FAULT_STREAM = 0x9e3779b9;

function faultRng(seed: number): Rng {
  return createRng((seed ^ FAULT_STREAM) >>> 0);
}

function zeroKinds(): Record<MockOutcomeKind, number> {
  return { ok: 0, error: 0, rate_limited: 0, timeout: 0, refused: 0 };
}

function bump(counts: Record<string, number>, key: string): void {
  counts[key] = (counts[key] ?? 0) + 1;
}

/** Mutable state of one mock server: config, the fault script, counters and a bounded request log. */
export class MockState {
  private config: MockLlmConfig;
  private rng: Rng;
  private faultRng: Rng;
  private faults: MockFault[] = [];
  private log: MockRequestRecord[] = [];
  private seq = 0;
  private inFlight = 0;
  private byModel: Record<string, number> = {};
  private byApiKey: Record<string, number> = {};
  private byOutcome: Record<string, number> = {};
  private byKind = zeroKinds();

  constructor(
    readonly provider: MockProvider,
    config: Partial<MockLlmConfig>,
    private readonly logSize: number,
  ) {
    this.config = { ...DEFAULT_CONFIG, ...config };
    assertConsistentConfig(this.config);
    this.rng = createRng(this.config.seed);
    this.faultRng = faultRng(this.config.seed);
  }

  getConfig(): MockLlmConfig {
    return { ...this.config };
  }

  /** Merges a checked patch; throws MockInputError (leaving the config alone) when the result is inconsistent. */
  configure(patch: Partial<MockLlmConfig>): MockLlmConfig {
    const next = { ...this.config, ...patch };
    assertConsistentConfig(next);
    this.config = next;
    // A new latency, rate or seed restarts that sequence so runs with the same settings are reproducible.
    if (patch.latency !== undefined || patch.seed !== undefined) this.rng = createRng(this.config.seed);
    if (patch.seed !== undefined || RATE_FIELDS.some((f) => patch[f] !== undefined)) this.faultRng = faultRng(this.config.seed);
    return this.getConfig();
  }

  /** Turns every standing fault off and drops pending scripted faults; keeps latency, keys and counters. */
  clearFaults(): MockLlmConfig {
    this.faults = [];
    return this.configure(NO_STANDING_FAULTS);
  }

  /**
   * Which rate-based standing fault hits this request, if any: one draw from the fault RNG, split as
   * [0, timeoutRate) timeout, then rateLimitRate, then errorRate. Draws nothing while all rates are 0.
   */
  drawRateFault(): RateFault | null {
    const { timeoutRate, rateLimitRate, errorRate } = this.config;
    if (timeoutRate + rateLimitRate + errorRate <= 0) return null;
    const u = this.faultRng();
    if (u < timeoutRate) return 'timeoutRate';
    if (u < timeoutRate + rateLimitRate) return 'rateLimitRate';
    if (u < timeoutRate + rateLimitRate + errorRate) return 'errorRate';
    return null;
  }

  sampleLatencyMs(): number {
    return sampleLatencyMs(this.config.latency, this.rng);
  }

  addFaults(faults: readonly MockFault[]): number {
    this.faults.push(...faults.map((f) => ({ ...f })));
    return this.faults.length;
  }

  takeFault(): MockFault | undefined {
    return this.faults.shift();
  }

  /** Counts an arriving API request and returns its sequence number. */
  begin(): number {
    this.inFlight += 1;
    this.seq += 1;
    return this.seq;
  }

  end(): void {
    this.inFlight = Math.max(0, this.inFlight - 1);
  }

  record(entry: MockRequestRecord): void {
    if (entry.model !== null) bump(this.byModel, entry.model);
    if (entry.apiKey !== null) bump(this.byApiKey, entry.apiKey);
    bump(this.byOutcome, String(entry.outcome));
    this.byKind[entry.kind] += 1;
    this.log.push(entry);
    if (this.log.length > this.logSize) this.log.splice(0, this.log.length - this.logSize);
  }

  requests(): MockRequestRecord[] {
    return this.log.map((r) => ({ ...r, messages: r.messages.map((m) => ({ ...m })) }));
  }

  stats(): MockStats {
    return {
      provider: this.provider,
      requests: this.seq,
      inFlight: this.inFlight,
      byModel: { ...this.byModel },
      byApiKey: { ...this.byApiKey },
      byOutcome: { ...this.byOutcome },
      byKind: { ...this.byKind },
      pendingFaults: this.faults.length,
    };
  }

  /**
   * Clears counters, the log and pending faults and restarts both RNGs; keeps the config (standing faults
   * included; in-flight requests stay counted).
   */
  reset(): void {
    this.faults = [];
    this.log = [];
    this.seq = 0;
    this.byModel = {};
    this.byApiKey = {};
    this.byOutcome = {};
    this.byKind = zeroKinds();
    this.rng = createRng(this.config.seed);
    this.faultRng = faultRng(this.config.seed);
  }
}
