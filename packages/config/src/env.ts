import { z } from 'zod';

/** Raised when the environment does not satisfy an app's schema. The message names every bad variable. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(
    readonly app: string,
    readonly problems: readonly string[],
  ) {
    super(`Invalid configuration for ${app}:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}

/**
 * Parses `env` with `schema` once, at start-up. Empty strings count as unset, so `FOO=` in a
 * `.env` file falls back to the default instead of failing a number or URL check.
 * Throws ConfigError listing every problem as `NAME: reason` (never the offending value, which may be a secret).
 */
export function parseEnv<S extends z.ZodObject>(app: string, schema: S, env: NodeJS.ProcessEnv = process.env): z.infer<S> {
  const cleaned: Record<string, string> = {};
  for (const [key, value] of Object.entries(env)) {
    if (value !== undefined && value.trim() !== '') cleaned[key] = value.trim();
  }
  const result = schema.safeParse(cleaned);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => {
    const name = issue.path.join('.') || '(environment)';
    const unset = issue.code !== 'custom' && issue.path.length === 1 && !(String(issue.path[0]) in cleaned);
    return `${name}: ${unset ? 'is required but not set' : issue.message}`;
  });
  throw new ConfigError(app, problems);
}

/** A URL whose scheme is one of `schemes` (e.g. redis/rediss). */
export function urlWithScheme(schemes: readonly string[]) {
  return z.string().refine(
    (value) => {
      try {
        return schemes.includes(new URL(value).protocol.replace(/:$/, ''));
      } catch {
        return false;
      }
    },
    { message: `must be a URL starting with ${schemes.map((s) => `${s}://`).join(' or ')}` },
  );
}

/** A positive integer read from a string, e.g. a port or a timeout in milliseconds. */
export function positiveInt(defaultValue?: number) {
  const base = z.coerce.number({ message: 'must be a whole number' }).int('must be a whole number').positive('must be greater than 0');
  return defaultValue === undefined ? base : base.default(defaultValue);
}

/** A TCP port (1–65535), with an optional default. */
export function port(defaultValue?: number) {
  const base = z.coerce.number({ message: 'must be a port number' }).int('must be a port number').min(1).max(65535, 'must be at most 65535');
  return defaultValue === undefined ? base : base.default(defaultValue);
}

/** "true"/"false"/"1"/"0" → boolean. */
export function flag(defaultValue: boolean) {
  return z
    .enum(['true', 'false', '1', '0'], { message: 'must be true or false' })
    .default(defaultValue ? 'true' : 'false')
    .transform((v) => v === 'true' || v === '1');
}

/**
 * Runs several readers of one app's environment (each may throw ConfigError) and reports every bad
 * variable at once: one ConfigError with all their problems, or each reader's result by name.
 * Other errors propagate unchanged.
 */
export function parseAll<T extends Record<string, () => unknown>>(app: string, readers: T): { [K in keyof T]: ReturnType<T[K]> } {
  const problems: string[] = [];
  const results: Partial<Record<keyof T, unknown>> = {};
  for (const [name, read] of Object.entries(readers) as [keyof T, () => unknown][]) {
    try {
      results[name] = read();
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      problems.push(...error.problems);
    }
  }
  if (problems.length > 0) throw new ConfigError(app, problems);
  return results as { [K in keyof T]: ReturnType<T[K]> };
}
