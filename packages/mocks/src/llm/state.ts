import { createRng, sampleLatencyMs, type Rng } from './rng';
import type { MockFault, MockLlmConfig, MockProvider, MockRequestRecord, MockStats } from './types';

export const DEFAULT_CONFIG: MockLlmConfig = {
  latency: { kind: 'none' },
  cachedTokens: 0,
  reasoningTokens: 0,
  seed: 1,
  validApiKeys: null,
};

function bump(counts: Record<string, number>, key: string): void {
  counts[key] = (counts[key] ?? 0) + 1;
}

/** Mutable state of one mock server: config, the fault script, counters and a bounded request log. */
export class MockState {
  private config: MockLlmConfig;
  private rng: Rng;
  private faults: MockFault[] = [];
  private log: MockRequestRecord[] = [];
  private seq = 0;
  private inFlight = 0;
  private byModel: Record<string, number> = {};
  private byApiKey: Record<string, number> = {};
  private byOutcome: Record<string, number> = {};

  constructor(
    readonly provider: MockProvider,
    config: Partial<MockLlmConfig>,
    private readonly logSize: number,
  ) {
    this.config = { ...DEFAULT_CONFIG, ...config };
    this.rng = createRng(this.config.seed);
  }

  getConfig(): MockLlmConfig {
    return { ...this.config };
  }

  configure(patch: Partial<MockLlmConfig>): MockLlmConfig {
    this.config = { ...this.config, ...patch };
    // A new latency or seed restarts the sequence so runs with the same settings are reproducible.
    if (patch.latency !== undefined || patch.seed !== undefined) this.rng = createRng(this.config.seed);
    return this.getConfig();
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
      pendingFaults: this.faults.length,
    };
  }

  /** Clears counters, the log and pending faults; keeps the config (in-flight requests stay counted). */
  reset(): void {
    this.faults = [];
    this.log = [];
    this.seq = 0;
    this.byModel = {};
    this.byApiKey = {};
    this.byOutcome = {};
    this.rng = createRng(this.config.seed);
  }
}
