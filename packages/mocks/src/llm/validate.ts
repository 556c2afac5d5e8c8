import type { LatencySpec, MockFault, MockLlmConfig } from './types';

/** Input to a control route (or to configure/script) that the mock cannot use. */
export class MockInputError extends Error {
  override readonly name = 'MockInputError';
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function nonNegative(value: unknown, field: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new MockInputError(`${field} must be a non-negative number`);
  }
  return value;
}

function optionalNonNegative(value: unknown, field: string): number | undefined {
  return value === undefined ? undefined : nonNegative(value, field);
}

/** Checks a latency spec; throws MockInputError when it is not one. */
export function parseLatency(value: unknown): LatencySpec {
  if (!isRecord(value)) throw new MockInputError('latency must be an object');
  switch (value['kind']) {
    case 'none':
      return { kind: 'none' };
    case 'fixed':
      return { kind: 'fixed', ms: nonNegative(value['ms'], 'latency.ms') };
    case 'lognormal': {
      const medianMs = nonNegative(value['medianMs'], 'latency.medianMs');
      if (medianMs === 0) throw new MockInputError('latency.medianMs must be positive');
      const sigma = optionalNonNegative(value['sigma'], 'latency.sigma');
      const p99Ms = optionalNonNegative(value['p99Ms'], 'latency.p99Ms');
      const maxMs = optionalNonNegative(value['maxMs'], 'latency.maxMs');
      if (sigma === undefined && p99Ms === undefined) throw new MockInputError('lognormal latency needs sigma or p99Ms');
      if (sigma === undefined && p99Ms !== undefined && p99Ms < medianMs) {
        throw new MockInputError('latency.p99Ms must be at least medianMs');
      }
      return {
        kind: 'lognormal',
        medianMs,
        ...(sigma !== undefined ? { sigma } : {}),
        ...(p99Ms !== undefined ? { p99Ms } : {}),
        ...(maxMs !== undefined ? { maxMs } : {}),
      };
    }
    default:
      throw new MockInputError("latency.kind must be 'none', 'fixed' or 'lognormal'");
  }
}

function rate(value: unknown, field: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > 1) {
    throw new MockInputError(`${field} must be a number from 0 to 1`);
  }
  return value;
}

function oneOf<T extends string>(value: unknown, field: string, allowed: readonly T[]): T {
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
    throw new MockInputError(`${field} must be one of ${allowed.map((a) => `'${a}'`).join(', ')}`);
  }
  return value as T;
}

// Rounding slack so that e.g. 0.7 + 0.2 + 0.1 is accepted.
const RATE_SUM_SLACK = 1e-9;

/** Checks what no single field can: the standing-fault rates together cover at most every request. */
export function assertConsistentConfig(config: MockLlmConfig): void {
  const sum = config.errorRate + config.rateLimitRate + config.timeoutRate;
  if (sum > 1 + RATE_SUM_SLACK) {
    throw new MockInputError(`errorRate + rateLimitRate + timeoutRate must not exceed 1 (got ${sum})`);
  }
}

/** Checks a partial config; unknown fields are rejected so typos do not pass silently. */
export function parseConfigPatch(value: unknown): Partial<MockLlmConfig> {
  if (!isRecord(value)) throw new MockInputError('config must be a JSON object');
  const patch: Partial<MockLlmConfig> = {};
  for (const [key, field] of Object.entries(value)) {
    switch (key) {
      case 'latency':
        patch.latency = parseLatency(field);
        break;
      case 'cachedTokens':
      case 'reasoningTokens':
      case 'thinkingTokens':
      case 'seed':
        patch[key] = Math.floor(nonNegative(field, key));
        break;
      case 'validApiKeys':
        if (field !== null && !(Array.isArray(field) && field.every((k) => typeof k === 'string'))) {
          throw new MockInputError('validApiKeys must be null or an array of strings');
        }
        patch.validApiKeys = field;
        break;
      case 'errorRate':
      case 'rateLimitRate':
      case 'timeoutRate':
        patch[key] = rate(field, key);
        break;
      case 'errorStatus':
        if (typeof field !== 'number' || !Number.isInteger(field) || field < 400 || field > 599) {
          throw new MockInputError('errorStatus must be an HTTP error status (400-599)');
        }
        patch.errorStatus = field;
        break;
      case 'retryAfterMs':
        patch.retryAfterMs = Math.round(nonNegative(field, key));
        break;
      case 'retryAfterHeaders':
        patch.retryAfterHeaders = oneOf(field, key, ['both', 'seconds', 'ms', 'none'] as const);
        break;
      case 'down':
        if (typeof field !== 'boolean') throw new MockInputError('down must be true or false');
        patch.down = field;
        break;
      case 'downMode':
        patch.downMode = oneOf(field, key, ['error', 'hang', 'refuse'] as const);
        break;
      case 'quotaExhausted':
        if (field !== false && field !== 'minute' && field !== 'day') {
          throw new MockInputError("quotaExhausted must be 'minute', 'day' or false");
        }
        patch.quotaExhausted = field;
        break;
      default:
        throw new MockInputError(`unknown config field: ${key}`);
    }
  }
  return patch;
}

function parseFault(value: unknown): MockFault {
  if (!isRecord(value)) throw new MockInputError('a fault must be a JSON object');
  const fault: MockFault = {};
  const status = value['status'];
  if (status !== undefined) {
    if (typeof status !== 'number' || !Number.isInteger(status) || status < 200 || status > 599) {
      throw new MockInputError('fault.status must be an HTTP status (200-599)');
    }
    fault.status = status;
  }
  if (value['body'] !== undefined) fault.body = value['body'];
  const headers = value['headers'];
  if (headers !== undefined) {
    if (!isRecord(headers) || !Object.values(headers).every((h) => typeof h === 'string')) {
      throw new MockInputError('fault.headers must map names to strings');
    }
    fault.headers = headers as Record<string, string>;
  }
  const delayMs = optionalNonNegative(value['delayMs'], 'fault.delayMs');
  if (delayMs !== undefined) fault.delayMs = delayMs;
  if (value['hang'] === true) fault.hang = true;
  if (value['reset'] === true) fault.reset = true;
  if (fault.hang && fault.reset) throw new MockInputError('a fault cannot both hang and reset');
  return fault;
}

/** Accepts one fault or an array of faults. */
export function parseFaults(value: unknown): MockFault[] {
  return Array.isArray(value) ? value.map(parseFault) : [parseFault(value)];
}
