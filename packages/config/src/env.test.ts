import { z } from 'zod';
import { ConfigError, commonEnv, parseAll, parseEnv, port, positiveInt } from './index';

const schema = commonEnv.extend({ HTTP_PORT: port(8080), WORKER_CONCURRENCY: positiveInt(50) });

function errorOf(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('parseEnv', () => {
  it('applies defaults and coerces numbers', () => {
    const env = parseEnv('test', schema, { REDIS_URL: 'redis://127.0.0.1:6379' });
    expect(env).toMatchObject({ HTTP_PORT: 8080, WORKER_CONCURRENCY: 50, REDIS_PREFIX: 'it', LOG_LEVEL: 'info' });
  });

  it('names a missing variable', () => {
    const error = errorOf(() => parseEnv('worker', schema, {}));
    expect(error.message).toContain('Invalid configuration for worker');
    expect(error.problems).toEqual(['REDIS_URL: is required but not set']);
  });

  it('names every malformed variable without echoing its value', () => {
    const error = errorOf(() =>
      parseEnv('worker', schema, { REDIS_URL: 'http://secret-host', HTTP_PORT: '70000', WORKER_CONCURRENCY: 'many' }),
    );
    expect(error.problems).toHaveLength(3);
    expect(error.problems.find((p) => p.startsWith('REDIS_URL:'))).toMatch(/redis:\/\//);
    expect(error.problems.find((p) => p.startsWith('HTTP_PORT:'))).toMatch(/65535/);
    expect(error.problems.find((p) => p.startsWith('WORKER_CONCURRENCY:'))).toMatch(/whole number/);
    expect(error.message).not.toContain('secret-host');
  });

  it('treats empty strings as unset', () => {
    const env = parseEnv('test', schema, { REDIS_URL: 'redis://h', HTTP_PORT: '' });
    expect(env.HTTP_PORT).toBe(8080);
  });

  it('rejects a bad enum with the allowed values', () => {
    const error = errorOf(() => parseEnv('test', commonEnv, { REDIS_URL: 'redis://h', LOG_LEVEL: 'loud' }));
    expect(error.problems[0]).toMatch(/^LOG_LEVEL: .*info/);
  });

  it('works with any zod object schema', () => {
    expect(parseEnv('x', z.object({ A: z.string() }), { A: ' v ' })).toEqual({ A: 'v' });
  });
});

describe('parseAll', () => {
  const bad = (problem: string) => () => {
    throw new ConfigError('x', [problem]);
  };

  it('returns every reader’s result by name', () => {
    expect(parseAll('app', { a: () => 1, b: () => 'two' })).toEqual({ a: 1, b: 'two' });
  });

  it('reports the problems of every reader at once, under the app’s name', () => {
    let thrown: unknown;
    try {
      parseAll('worker', { a: bad('A: is required'), b: () => 2, c: bad('C: must be a number') });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(ConfigError);
    expect(thrown).toMatchObject({ app: 'worker', problems: ['A: is required', 'C: must be a number'] });
  });

  it('lets other errors through unchanged', () => {
    const boom = new TypeError('boom');
    expect(() =>
      parseAll('app', {
        a: () => {
          throw boom;
        },
      }),
    ).toThrow(boom);
  });
});
