/** The part of a fetch Headers object the parsers need. */
export interface HeaderSource {
  get(name: string): string | null;
}

/**
 * How long the response headers ask us to wait, in ms, or undefined when they do not say.
 * `retry-after-ms` (OpenAI's, milliseconds) wins over `retry-after` (seconds, or an HTTP date).
 * Guarantees: never negative; garbage values are ignored rather than guessed.
 */
export function retryAfterFromHeaders(headers: HeaderSource | undefined, nowMs: number = Date.now()): number | undefined {
  if (headers === undefined) return undefined;
  const ms = headers.get('retry-after-ms');
  if (ms !== null && ms.trim() !== '') {
    const value = Number(ms);
    if (Number.isFinite(value) && value >= 0) return Math.round(value);
  }
  const after = headers.get('retry-after')?.trim();
  if (after === undefined || after === '') return undefined;
  // Anything number-like is delta-seconds (Date.parse would read "-4" as a year).
  if (/^[+-]?[\d.]+$/.test(after)) {
    const seconds = Number(after);
    return Number.isFinite(seconds) && seconds >= 0 ? Math.round(seconds * 1000) : undefined;
  }
  const date = Date.parse(after);
  return Number.isNaN(date) ? undefined : Math.max(0, date - nowMs);
}

/** A google.protobuf.Duration in JSON form ("3s", "1.500s") in ms, or undefined when it is not one. */
export function parseProtoDuration(value: unknown): number | undefined {
  if (typeof value !== 'string') return undefined;
  const match = /^(\d+(?:\.\d+)?)s$/.exec(value.trim());
  return match?.[1] === undefined ? undefined : Math.round(Number(match[1]) * 1000);
}
