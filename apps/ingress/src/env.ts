import { z } from 'zod';
import { commonEnv, parseAll, parseDataEncryptionEnv, parseEnv, port, positiveInt, telegramEnv, urlWithScheme, type DataEncryptionConfig } from '@inner-talk/config';

const schema = commonEnv
  .extend(telegramEnv.shape)
  .extend({
    /** `webhook` in production; `polling` for development (it deletes any webhook of the bot). */
    INGRESS_MODE: z.enum(['webhook', 'polling']).default('webhook'),
    /**
     * Telegram sends it in X-Telegram-Bot-Api-Secret-Token; A–Z a–z 0–9 _ - only, at most 256 (Telegram's
     * rule). At least 32 (ours): it is the only thing that tells Telegram's calls from anyone else's.
     */
    WEBHOOK_SECRET: z
      .string()
      .regex(/^[A-Za-z0-9_-]*$/, 'must use only A-Z, a-z, 0-9, _ or -')
      .min(32, 'must be at least 32 characters (e.g. openssl rand -hex 32)')
      .max(256, 'must be at most 256 characters')
      .optional(),
    WEBHOOK_PATH: z.string().regex(/^\/[A-Za-z0-9/_-]*$/, 'must be a path starting with /').default('/telegram/webhook'),
    /** Public HTTPS URL of WEBHOOK_PATH; when set, the ingress registers the webhook with Telegram at start. */
    WEBHOOK_PUBLIC_URL: urlWithScheme(['https', 'http']).optional(),
    HTTP_HOST: z.string().default('0.0.0.0'),
    HTTP_PORT: port(8080),
    /** Larger request bodies get 413 (Telegram updates are a few KiB). */
    MAX_BODY_BYTES: positiveInt(1_048_576),
    /** How long an update_id is remembered to drop Telegram's redeliveries. */
    DEDUPE_TTL_SECONDS: positiveInt(86_400),
  })
  .superRefine((env, ctx) => {
    if (env.INGRESS_MODE === 'webhook' && !env.WEBHOOK_SECRET) {
      ctx.addIssue({ code: 'custom', path: ['WEBHOOK_SECRET'], message: 'is required when INGRESS_MODE=webhook' });
    }
  });

/** The keyring (`DATA_ENCRYPTION_KEYS`, the worker's): updates are sealed before they enter the inbox. */
export type IngressEnv = z.infer<typeof schema> & { encryption: DataEncryptionConfig };

/** Reads and validates the ingress environment once; throws ConfigError naming each bad variable. */
export function loadIngressEnv(env: NodeJS.ProcessEnv = process.env): IngressEnv {
  const { base, encryption } = parseAll('ingress', { base: () => parseEnv('ingress', schema, env), encryption: () => parseDataEncryptionEnv(env, 'ingress') });
  return { ...base, encryption };
}
