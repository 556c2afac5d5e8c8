import { z } from 'zod';
import { ConfigError, positiveInt, urlWithScheme } from '@inner-talk/config';

/** Prices in USD per 1M tokens. */
export interface Price {
  inputPerM: number;
  cachedInputPerM: number;
  outputPerM: number;
}

/** One API key and the quota scope it spends (Gemini: the Google Cloud project; OpenAI: the org/project). */
export interface ApiKeyConfig {
  /** Stable, secret-free id used in Redis, logs and metrics: `<provider>#<n>`. */
  id: string;
  apiKey: string;
  scope: string;
}

/** One provider of the fallback chain. */
export interface ProviderRoute {
  name: string;
  /** Which HTTP API it speaks: Gemini's generateContent or OpenAI's Chat Completions (any compatible server). */
  api: 'gemini' | 'openai';
  baseUrl?: string;
  model: string;
  keys: ApiKeyConfig[];
  /** Per (provider, scope, model) limits; unset = not limited by us. */
  rpm?: number;
  tpm?: number;
  price: Price;
  /** Timeout of one call. */
  timeoutMs: number;
}

export interface GatewayConfig {
  /** The order of providers: the first is the primary. */
  chain: ProviderRoute[];
  /**
   * A cheaper chain for simple messages (greetings, thanks, short acknowledgements); empty when not
   * configured. Its providers are configured like any other (`LLM_<NAME>_*`).
   */
  lightChain: ProviderRoute[];
  breaker: { failureThreshold: number; openMs: number; errorRate: { threshold: number; minCalls: number; windowMs: number } | false };
}

const NAME = /^[a-z][a-z0-9_]{0,31}$/;

const num = (message: string) => z.coerce.number({ message }).nonnegative(message);

const providerSchema = z.object({
  API: z.enum(['gemini', 'openai']),
  KEYS: z.string().min(1),
  MODEL: z.string().min(1),
  BASE_URL: urlWithScheme(['http', 'https']).optional(),
  RPM: positiveInt().optional(),
  TPM: positiveInt().optional(),
  PRICE_INPUT: num('must be a price in USD per 1M tokens').default(0),
  PRICE_CACHED: num('must be a price in USD per 1M tokens').optional(),
  PRICE_OUTPUT: num('must be a price in USD per 1M tokens').default(0),
  TIMEOUT_MS: positiveInt(20_000),
});

const providerNames = (fallback: string, required: boolean) =>
  z
    .string()
    .default(fallback)
    .transform((s) => s.split(',').map((n) => n.trim().toLowerCase()).filter(Boolean))
    .refine((names) => (names.length > 0 || !required) && names.every((n) => NAME.test(n)), 'must be a comma-separated list of provider names (a-z, 0-9, _)')
    .refine((names) => new Set(names).size === names.length, 'names a provider twice');

const globalSchema = z.object({
  LLM_CHAIN: providerNames('gemini,openai', true),
  LLM_LIGHT_CHAIN: providerNames('', false),
  LLM_BREAKER_FAILURES: positiveInt(3),
  LLM_BREAKER_OPEN_MS: positiveInt(30_000),
  LLM_BREAKER_ERROR_RATE: z.coerce.number().min(0).max(1, 'must be between 0 and 1 (0 turns the rule off)').default(0.5),
  LLM_BREAKER_MIN_CALLS: positiveInt(20),
  LLM_BREAKER_WINDOW_MS: positiveInt(60_000),
});

/** Default dialects and models, so `LLM_GEMINI_KEYS` alone configures Gemini. */
const DEFAULTS: Record<string, { API: 'gemini' | 'openai'; MODEL: string }> = {
  gemini: { API: 'gemini', MODEL: 'gemini-2.5-flash' },
  openai: { API: 'openai', MODEL: 'gpt-4.1-mini' },
};

/**
 * Reads the gateway's configuration from environment variables (the app passes its env; packages
 * never read process.env):
 *
 *   LLM_CHAIN=gemini,openai                 provider names in fallback order (default gemini,openai)
 *   LLM_LIGHT_CHAIN=gemini_lite              optional cheaper chain for simple messages (default: none)
 *   LLM_<NAME>_KEYS=scope:key,scope:key      API keys, each with the quota scope it spends; a key
 *                                            without `scope:` is its own scope
 *   LLM_<NAME>_API=gemini|openai             dialect (default: gemini/openai for those names; required otherwise)
 *   LLM_<NAME>_MODEL, LLM_<NAME>_BASE_URL    model id; endpoint (SDK default when unset)
 *   LLM_<NAME>_RPM, LLM_<NAME>_TPM           limits per (provider, scope, model) per minute
 *   LLM_<NAME>_PRICE_INPUT|_CACHED|_OUTPUT   USD per 1M tokens (cached defaults to input)
 *   LLM_<NAME>_TIMEOUT_MS                    one call's timeout (default 20000)
 *   LLM_BREAKER_FAILURES (3), LLM_BREAKER_OPEN_MS (30000), LLM_BREAKER_ERROR_RATE (0.5; 0 = off),
 *   LLM_BREAKER_MIN_CALLS (20), LLM_BREAKER_WINDOW_MS (60000)
 *
 * A provider named in the chain without keys is an error; so is a chain without any provider.
 * Throws ConfigError naming every bad variable (never its value).
 */
export function parseGatewayEnv(env: Readonly<Record<string, string | undefined>>, app = 'worker'): GatewayConfig {
  const clean: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined && v.trim() !== '') clean[k] = v.trim();
  const problems: string[] = [];
  const issues = (prefix: string, error: z.ZodError) =>
    error.issues.forEach((i) => problems.push(`${prefix}${String(i.path[0] ?? '')}: ${i.code !== 'custom' && !(`${prefix}${String(i.path[0])}` in clean) ? 'is required but not set' : i.message}`));

  const global = globalSchema.safeParse(clean);
  if (!global.success) {
    issues('', global.error);
    throw new ConfigError(app, problems);
  }
  const routes = new Map<string, ProviderRoute>();
  for (const name of new Set([...global.data.LLM_CHAIN, ...global.data.LLM_LIGHT_CHAIN])) {
    const prefix = `LLM_${name.toUpperCase()}_`;
    const raw: Record<string, string> = { ...(DEFAULTS[name] ?? {}) };
    for (const [k, v] of Object.entries(clean)) if (k.startsWith(prefix)) raw[k.slice(prefix.length)] = v;
    const parsed = providerSchema.safeParse(raw);
    if (!parsed.success) {
      issues(prefix, parsed.error);
      continue;
    }
    const p = parsed.data;
    const keys = p.KEYS.split(',')
      .map((entry) => entry.trim())
      .filter(Boolean)
      .map((entry, i) => {
        const colon = entry.indexOf(':');
        const id = `${name}#${i + 1}`;
        return colon > 0 ? { id, scope: entry.slice(0, colon), apiKey: entry.slice(colon + 1) } : { id, scope: id, apiKey: entry };
      });
    if (keys.some((k) => k.apiKey === '')) problems.push(`${prefix}KEYS: an entry has a scope but no key`);
    routes.set(name, {
      name,
      api: p.API,
      ...(p.BASE_URL && { baseUrl: p.BASE_URL }),
      model: p.MODEL,
      keys,
      ...(p.RPM && { rpm: p.RPM }),
      ...(p.TPM && { tpm: p.TPM }),
      price: { inputPerM: p.PRICE_INPUT, cachedInputPerM: p.PRICE_CACHED ?? p.PRICE_INPUT, outputPerM: p.PRICE_OUTPUT },
      timeoutMs: p.TIMEOUT_MS,
    });
  }
  if (problems.length) throw new ConfigError(app, problems);
  const g = global.data;
  const routesOf = (names: readonly string[]) => names.map((n) => routes.get(n)).filter((r): r is ProviderRoute => r !== undefined);
  return {
    chain: routesOf(g.LLM_CHAIN),
    lightChain: routesOf(g.LLM_LIGHT_CHAIN),
    breaker: {
      failureThreshold: g.LLM_BREAKER_FAILURES,
      openMs: g.LLM_BREAKER_OPEN_MS,
      errorRate: g.LLM_BREAKER_ERROR_RATE === 0 ? false : { threshold: g.LLM_BREAKER_ERROR_RATE, minCalls: g.LLM_BREAKER_MIN_CALLS, windowMs: g.LLM_BREAKER_WINDOW_MS },
    },
  };
}
