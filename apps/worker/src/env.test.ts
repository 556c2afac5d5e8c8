import { ConfigError } from '@inner-talk/config';
import { loadWorkerEnv } from './env';

const valid = {
  REDIS_URL: 'redis://127.0.0.1:6379',
  MONGO_URL: 'mongodb://127.0.0.1:27017',
  TELEGRAM_BOT_TOKEN: '123:abc',
  LLM_GEMINI_KEYS: 'k',
  LLM_OPENAI_KEYS: 'k2',
  DATA_ENCRYPTION_KEYS: `k1:${Buffer.alloc(32, 7).toString('base64')}`,
};

function problems(env: Record<string, string>): readonly string[] {
  try {
    loadWorkerEnv(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
}

describe('worker configuration', () => {
  it('accepts a minimal environment and fills defaults', () => {
    expect(loadWorkerEnv(valid)).toMatchObject({ LLM_DEADLINE_MS: 45_000, WORKER_CONCURRENCY: 50, MONGO_DB: 'inner_talk', HEALTH_PORT: 8081 });
  });

  it.each([
    ['MONGO_URL', 'MONGO_URL: is required but not set'],
    ['TELEGRAM_BOT_TOKEN', 'TELEGRAM_BOT_TOKEN: is required but not set'],
  ])('names the missing %s', (name, message) => {
    const env: Record<string, string> = { ...valid };
    delete env[name];
    expect(problems(env)).toEqual([message]);
  });

  it('requires keys for every provider of the chain', () => {
    const { LLM_OPENAI_KEYS: _unused, ...noOpenAI } = valid;
    expect(problems(noOpenAI)).toEqual(['LLM_OPENAI_KEYS: is required but not set']);
    expect(problems({ ...noOpenAI, LLM_CHAIN: 'gemini' })).toEqual([]);
  });

  it('names malformed variables', () => {
    const found = problems({ ...valid, MONGO_URL: 'postgres://x', WORKER_CONCURRENCY: '0', TELEGRAM_BOT_TOKEN: 'nope', LLM_GEMINI_RPM: 'fast' });
    expect(found.map((p) => p.split(':')[0]).sort()).toEqual(['LLM_GEMINI_RPM', 'MONGO_URL', 'TELEGRAM_BOT_TOKEN', 'WORKER_CONCURRENCY']);
  });
});
