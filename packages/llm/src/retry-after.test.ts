import { parseProtoDuration, retryAfterFromHeaders } from './retry-after';
import { kindForStatus } from './status';

const NOW = Date.parse('2026-01-01T00:00:00Z');

describe('retryAfterFromHeaders', () => {
  const h = (values: Record<string, string>) => new Headers(values);

  it('reads retry-after-ms first, then retry-after seconds or date', () => {
    expect(retryAfterFromHeaders(h({ 'retry-after-ms': '1200.4', 'retry-after': '5' }), NOW)).toBe(1200);
    expect(retryAfterFromHeaders(h({ 'retry-after': '5' }), NOW)).toBe(5000);
    expect(retryAfterFromHeaders(h({ 'retry-after': '0.5' }), NOW)).toBe(500);
    expect(retryAfterFromHeaders(h({ 'retry-after': 'Thu, 01 Jan 2026 00:00:07 GMT' }), NOW)).toBe(7000);
  });

  it('ignores garbage and never goes negative', () => {
    expect(retryAfterFromHeaders(h({ 'retry-after-ms': 'soon', 'retry-after': '3' }), NOW)).toBe(3000);
    expect(retryAfterFromHeaders(h({ 'retry-after': 'later' }), NOW)).toBeUndefined();
    expect(retryAfterFromHeaders(h({ 'retry-after': '-4' }), NOW)).toBeUndefined();
    expect(retryAfterFromHeaders(h({ 'retry-after': 'Wed, 31 Dec 2025 23:59:00 GMT' }), NOW)).toBe(0);
    expect(retryAfterFromHeaders(h({}), NOW)).toBeUndefined();
    expect(retryAfterFromHeaders(undefined, NOW)).toBeUndefined();
  });
});

describe('parseProtoDuration', () => {
  it('reads protobuf JSON durations only', () => {
    expect(parseProtoDuration('3s')).toBe(3000);
    expect(parseProtoDuration('0.250s')).toBe(250);
    expect(parseProtoDuration('3')).toBeUndefined();
    expect(parseProtoDuration(3)).toBeUndefined();
  });
});

describe('kindForStatus', () => {
  it.each([
    [429, 'rate_limited'],
    [401, 'auth'],
    [403, 'auth'],
    [408, 'timeout'],
    [400, 'bad_request'],
    [404, 'bad_request'],
    [409, 'bad_request'],
    [422, 'bad_request'],
    [500, 'server'],
    [504, 'server'],
    [302, 'server'],
  ] as const)('%i → %s', (status, kind) => {
    expect(kindForStatus(status)).toBe(kind);
  });
});
