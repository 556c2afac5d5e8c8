import { ConfigError } from '@inner-talk/config';
import { loadIngressEnv } from './env';

const KEYS = `k1:${Buffer.alloc(32, 7).toString('base64')}`;
const valid = { REDIS_URL: 'redis://127.0.0.1:6379', TELEGRAM_BOT_TOKEN: '123:abc', WEBHOOK_SECRET: 'a'.repeat(32), DATA_ENCRYPTION_KEYS: KEYS };

function problems(env: Record<string, string>): readonly string[] {
  try {
    loadIngressEnv(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
}

describe('ingress configuration', () => {
  it('defaults to webhook mode with a secret', () => {
    expect(loadIngressEnv(valid)).toMatchObject({ INGRESS_MODE: 'webhook', HTTP_PORT: 8080, WEBHOOK_PATH: '/telegram/webhook' });
  });

  it('requires WEBHOOK_SECRET in webhook mode only', () => {
    const { WEBHOOK_SECRET: _unused, ...noSecret } = valid;
    expect(problems(noSecret)).toEqual(['WEBHOOK_SECRET: is required when INGRESS_MODE=webhook']);
    expect(problems({ ...noSecret, INGRESS_MODE: 'polling' })).toEqual([]);
  });

  it('needs the data encryption keyring, read with the worker\'s rules, and never echoes a key', () => {
    const { DATA_ENCRYPTION_KEYS: _unused, ...noKeys } = valid;
    expect(problems(noKeys).map((p) => p.split(':')[0])).toEqual(['DATA_ENCRYPTION_KEYS']);
    expect(loadIngressEnv(valid).encryption.currentKeyId).toBe('k1');
    const bad = problems({ ...valid, DATA_ENCRYPTION_KEYS: 'k1:c2hvcnQ=', DATA_ENCRYPTION_KEY_ID: 'k1' });
    expect(bad.map((p) => p.split(':')[0])).toEqual(['DATA_ENCRYPTION_KEYS']);
    expect(bad.join(' ')).not.toContain('c2hvcnQ');
  });

  it('rejects a secret Telegram would refuse and a bad port', () => {
    const found = problems({ ...valid, WEBHOOK_SECRET: `has spaces!${'a'.repeat(32)}`, HTTP_PORT: '99999' });
    expect(found.map((p) => p.split(':')[0]).sort()).toEqual(['HTTP_PORT', 'WEBHOOK_SECRET']);
  });

  it('refuses a secret shorter than 32 characters, naming the rule but not the value', () => {
    const found = problems({ ...valid, WEBHOOK_SECRET: 'short_secret_0123456789abcdefgh' });
    expect(found).toEqual(['WEBHOOK_SECRET: must be at least 32 characters (e.g. openssl rand -hex 32)']);
    expect(found.join(' ')).not.toContain('short_secret');
    expect(problems({ ...valid, WEBHOOK_SECRET: 'x'.repeat(257) })).toEqual(['WEBHOOK_SECRET: must be at most 256 characters']);
  });
});
