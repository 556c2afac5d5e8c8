import { randomBytes } from 'node:crypto';
import { ConfigError, parseDataEncryptionEnv } from './index';

const K1 = randomBytes(32);
const K2 = randomBytes(32);

function problemsOf(env: NodeJS.ProcessEnv): readonly string[] {
  try {
    parseDataEncryptionEnv(env, 'worker');
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('parseDataEncryptionEnv', () => {
  it('reads the keyring; the first key is current unless DATA_ENCRYPTION_KEY_ID names another', () => {
    const DATA_ENCRYPTION_KEYS = `k1:${K1.toString('base64')}, k2:${K2.toString('base64url')}`;
    const first = parseDataEncryptionEnv({ DATA_ENCRYPTION_KEYS }, 'worker');
    expect(first.currentKeyId).toBe('k1');
    expect([...first.keys.keys()]).toEqual(['k1', 'k2']);
    expect(first.keys.get('k2')?.equals(K2)).toBe(true);
    expect(parseDataEncryptionEnv({ DATA_ENCRYPTION_KEYS, DATA_ENCRYPTION_KEY_ID: 'k2' }, 'worker').currentKeyId).toBe('k2');
    expect(parseDataEncryptionEnv({ DATA_ENCRYPTION_KEYS, DATA_ENCRYPTION_KEY_ID: '' }, 'worker').currentKeyId).toBe('k1');
  });

  it('names the variable and the problem, never the value', () => {
    const key = K1.toString('base64');
    const cases: Array<[NodeJS.ProcessEnv, string]> = [
      [{}, 'DATA_ENCRYPTION_KEYS: is required but not set'],
      [{ DATA_ENCRYPTION_KEYS: ' , ' }, 'DATA_ENCRYPTION_KEYS: must hold at least one'],
      [{ DATA_ENCRYPTION_KEYS: key }, 'DATA_ENCRYPTION_KEYS: entry 1: expected <key id>:<base64 key>'],
      [{ DATA_ENCRYPTION_KEYS: `k1:${key},k 2:${key}` }, 'DATA_ENCRYPTION_KEYS: entry 2: key ids must be'],
      [{ DATA_ENCRYPTION_KEYS: `k1:${key.slice(0, 30)}` }, 'DATA_ENCRYPTION_KEYS: entry 1 (key id "k1"): key must be 32 bytes'],
      [{ DATA_ENCRYPTION_KEYS: `k1:${key}#` }, 'DATA_ENCRYPTION_KEYS: entry 1 (key id "k1"): key must be 32 bytes'],
      [{ DATA_ENCRYPTION_KEYS: `k1:${key},k1:${K2.toString('base64')}` }, 'DATA_ENCRYPTION_KEYS: entry 2: key id "k1" appears twice'],
      [{ DATA_ENCRYPTION_KEYS: `k1:${key}`, DATA_ENCRYPTION_KEY_ID: 'k2' }, 'DATA_ENCRYPTION_KEY_ID: names no key of DATA_ENCRYPTION_KEYS (its ids: k1)'],
      [{ DATA_ENCRYPTION_KEYS: `k1:${key}`, DATA_ENCRYPTION_KEY_ID: key }, 'DATA_ENCRYPTION_KEY_ID: must be a key id'],
    ];
    for (const [env, expected] of cases) {
      const problems = problemsOf(env);
      expect(problems).toHaveLength(1);
      expect(problems[0]).toContain(expected);
      for (const secret of [key, key.slice(0, 30), K2.toString('base64')]) expect(problems.join('\n')).not.toContain(secret);
    }
  });
});
