import { createCipheriv, randomBytes } from 'node:crypto';
import { inspect } from 'node:util';
import { paddedLength, parseKeyring, Vault, VaultError, VaultKeyringError, VaultKeyUnknownError, VaultTamperedError } from './index';

const K1 = randomBytes(32);
const K2 = randomBytes(32);
const spec = (...entries: Array<[string, Buffer]>) => entries.map(([id, key]) => `${id}:${key.toString('base64')}`).join(',');

function thrown(fn: () => unknown): Error {
  try {
    fn();
  } catch (error) {
    if (error instanceof Error) return error;
  }
  throw new Error('expected an error');
}

/** Flips one bit of part `index` of a sealed value (2 = IV, 3 = tag, 4 = ciphertext), keeping the format valid. */
function flip(sealed: string, index: number, byte = 0): string {
  const parts = sealed.split('.');
  const bytes = Buffer.from(parts[index] as string, 'base64url');
  bytes[byte] = (bytes[byte] as number) ^ 0x01;
  parts[index] = bytes.toString('base64url');
  return parts.join('.');
}

describe('Vault', () => {
  const vault = new Vault({ keys: { k1: K1 }, currentKeyId: 'k1' });

  it('round-trips text, with and without associated data', () => {
    for (const text of ['', 'hello', 'Мне тревожно 😔 и не спится', '👩‍👩‍👧‍👦 \u0000 \n\t "quotes" v1.k1.a.b.c', 'x'.repeat(200_000)]) {
      expect(vault.open(vault.seal(text))).toBe(text);
      expect(vault.open(vault.seal(text, 'messages|tg:1|u1|user|text'), 'messages|tg:1|u1|user|text')).toBe(text);
    }
  });

  it('produces the compact format with the key id, and never the same value twice', () => {
    const a = vault.seal('same text');
    const b = vault.seal('same text');
    expect(a).toMatch(/^v2\.k1\.[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]+$/);
    expect(a).not.toBe(b);
    expect(a).not.toContain('same');
    expect(vault.keyIdOf(a)).toBe('k1');
    expect(vault.isSealed(a)).toBe(true);
    for (const plain of ['same text', 'v2.k1.x.y.z', '', 42, null, undefined]) expect(vault.isSealed(plain)).toBe(false);
  });

  it('uses a fresh IV for each of 10,000 seals', () => {
    const ivs = new Set<string>();
    for (let i = 0; i < 10_000; i++) ivs.add(vault.seal('same').split('.')[2] as string);
    expect(ivs.size).toBe(10_000);
  });

  it.each([
    ['IV', 2, 0],
    ['IV (last byte)', 2, 11],
    ['tag', 3, 0],
    ['tag (last byte)', 3, 15],
    ['ciphertext', 4, 0],
    ['ciphertext (last byte)', 4, 4],
  ])('detects a flipped bit in the %s', (_part, index, byte) => {
    const sealed = vault.seal('hello', 'messages|a');
    const error = thrown(() => vault.open(flip(sealed, index, byte), 'messages|a'));
    expect(error).toBeInstanceOf(VaultTamperedError);
    expect((error as VaultTamperedError).reason).toBe('authentication');
  });

  it('detects a value moved to another record (different associated data) or stripped of it', () => {
    const sealed = vault.seal('hello', 'messages|tg:1|u1|user|text');
    for (const aad of ['messages|tg:2|u1|user|text', 'messages|tg:1|u1|user|texT', '', undefined]) {
      expect((thrown(() => vault.open(sealed, aad)) as VaultTamperedError).reason).toBe('authentication');
    }
    expect(thrown(() => vault.open(vault.seal('hello'), 'messages|x'))).toBeInstanceOf(VaultTamperedError);
  });

  it('detects a relabelled key id and a value sealed under another key with the same id', () => {
    const ring = new Vault({ keys: { k1: K1, k2: K1 }, currentKeyId: 'k1' });
    const relabelled = ring.seal('hello').replace(/^v2\.k1\./, 'v2.k2.');
    expect((thrown(() => ring.open(relabelled)) as VaultTamperedError).reason).toBe('authentication');
    const impostor = new Vault({ keys: { k1: K2 }, currentKeyId: 'k1' }).seal('hello');
    expect((thrown(() => vault.open(impostor)) as VaultTamperedError).reason).toBe('authentication');
  });

  it('rejects malformed values as malformed, not as unknown keys', () => {
    const sealed = vault.seal('hello');
    const parts = sealed.split('.');
    const cases = ['', 'hello', 'v3' + sealed.slice(2), sealed + '.', parts.slice(0, 4).join('.'), `${parts.slice(0, 4).join('.')}.!!`];
    // A non-canonical last base64url character decodes to the same bytes; it must not pass as the same value.
    const tag = parts[3] as string;
    const lastChar = tag.at(-1) as string;
    const sibling = 'AQgw'.includes(lastChar) ? String.fromCharCode(lastChar.charCodeAt(0) + 1) : 'A';
    cases.push([...parts.slice(0, 3), tag.slice(0, -1) + sibling, parts[4]].join('.'));
    for (const value of cases) {
      const error = thrown(() => vault.open(value));
      expect(error).toBeInstanceOf(VaultTamperedError);
      expect(error).toBeInstanceOf(VaultError);
    }
    expect((thrown(() => vault.open('hello')) as VaultTamperedError).reason).toBe('malformed');
    expect(thrown(() => vault.keyIdOf('plain text'))).toBeInstanceOf(VaultTamperedError);
  });

  it('names an unknown key id with its own error', () => {
    const other = new Vault({ keys: { k9: K2 }, currentKeyId: 'k9' });
    const error = thrown(() => vault.open(other.seal('hello')));
    expect(error).toBeInstanceOf(VaultKeyUnknownError);
    expect((error as VaultKeyUnknownError).keyId).toBe('k9');
  });

  it('rotates: a ring with a new current key still opens old values and says they need rotation', () => {
    const old = vault.seal('kept secret', 'users|tg:1|note');
    const rotated = new Vault({ keys: new Map([['k1', K1], ['k2', K2]]), currentKeyId: 'k2' });
    expect(rotated.open(old, 'users|tg:1|note')).toBe('kept secret');
    expect(rotated.needsRotation(old)).toBe(true);
    const fresh = rotated.seal('kept secret', 'users|tg:1|note');
    expect(rotated.keyIdOf(fresh)).toBe('k2');
    expect(rotated.needsRotation(fresh)).toBe(false);
    expect(vault.needsRotation(old)).toBe(false);
    // Retiring k1 before rotation ran makes old values unreadable, with a typed error.
    expect(thrown(() => new Vault({ keys: { k2: K2 }, currentKeyId: 'k2' }).open(old, 'users|tg:1|note'))).toBeInstanceOf(VaultKeyUnknownError);
  });

  it('validates its keys in the constructor', () => {
    const problem = (fn: () => unknown) => (thrown(fn) as VaultKeyringError).problem;
    expect(problem(() => new Vault({ keys: {}, currentKeyId: 'k1' }))).toBe('empty');
    expect(problem(() => new Vault({ keys: { 'k.1': K1 }, currentKeyId: 'k.1' }))).toBe('key_id');
    expect(problem(() => new Vault({ keys: { k1: K1.subarray(0, 16) }, currentKeyId: 'k1' }))).toBe('key_length');
    expect(problem(() => new Vault({ keys: { k1: K1 }, currentKeyId: 'k2' }))).toBe('current_unknown');
  });

  it('never shows key material: not in errors, JSON or inspect output', () => {
    const secrets = [K1, K2].flatMap((k) => [k.toString('base64'), k.toString('base64url'), k.toString('hex')]);
    const texts: string[] = [JSON.stringify(vault), inspect(vault, { showHidden: true, depth: 10 })];
    const errors = [
      thrown(() => vault.open(new Vault({ keys: { k9: K2 }, currentKeyId: 'k9' }).seal('x'))),
      thrown(() => vault.open(flip(vault.seal('x'), 4))),
      thrown(() => new Vault({ keys: { k1: Buffer.concat([K1, K2]) }, currentKeyId: 'k1' })),
      thrown(() => parseKeyring(`k1:${K1.toString('base64')}x`)),
      thrown(() => parseKeyring(`${K1.toString('base64')}`)),
      thrown(() => parseKeyring(`${K2.toString('base64url')}:${K1.toString('base64')}`)),
      thrown(() => parseKeyring(spec(['k1', K1], ['k1', K2]))),
      thrown(() => parseKeyring(spec(['k1', K1]), K2.toString('base64'))),
    ];
    for (const error of errors) texts.push(error.message, inspect(error), JSON.stringify(error));
    for (const text of texts) for (const secret of secrets) expect(text).not.toContain(secret);
    expect(JSON.stringify(vault)).toBe('{"currentKeyId":"k1","keyIds":["k1"]}');
  });

  it('pads to size buckets, so the sealed lengths of every PHQ-9 result are equal', () => {
    // Every band with both item-9 flags, as the assessment store seals a score (JSON).
    const bands = ['minimal', 'mild', 'moderate', 'moderately_severe', 'severe'];
    const results = bands.flatMap((band, i) => [false, true].map((item9Flag) => JSON.stringify({ total: i * 5 + (item9Flag ? 7 : 0), band, item9Flag })));
    const lengths = new Set(results.map((r) => vault.seal(r, 'assessments|tg:1|run').length));
    expect(lengths.size).toBe(1);
    // Risk levels and short answer lists, too.
    expect(vault.seal('low').length).toBe(vault.seal('high').length);
    expect(vault.seal(JSON.stringify([0, 0, 0])).length).toBe(vault.seal(JSON.stringify([3, 3, 3, 3, 3, 3, 3, 3, 3])).length);
  });

  it('chooses buckets that double up to 4 KiB, then grow in 4 KiB steps, always with room for the pad mark', () => {
    expect([0, 30, 31, 32, 63, 64, 100, 4095, 4096, 8191, 8192].map(paddedLength)).toEqual([32, 32, 32, 64, 64, 128, 128, 4096, 8192, 8192, 12288]);
    for (const text of ['', 'x'.repeat(31), 'x'.repeat(32), 'é'.repeat(40), 'x'.repeat(5000)]) {
      const ciphertext = Buffer.from(vault.seal(text).split('.')[4] as string, 'base64url');
      expect(ciphertext.length).toBe(paddedLength(Buffer.byteLength(text)));
      expect(vault.open(vault.seal(text))).toBe(text);
    }
  });

  it('authenticates the padding: a value cut to another length, or with changed padding bytes, does not open', () => {
    const sealed = vault.seal('hi');
    const parts = sealed.split('.');
    const ciphertext = Buffer.from(parts[4] as string, 'base64url');
    const cut = [...parts.slice(0, 4), ciphertext.subarray(0, 3).toString('base64url')].join('.');
    expect((thrown(() => vault.open(cut)) as VaultTamperedError).reason).toBe('authentication');
    expect((thrown(() => vault.open(flip(sealed, 4, 31))) as VaultTamperedError).reason).toBe('authentication');
    // A v2 value relabelled as v1 (which has no padding) fails too: the version is authenticated.
    expect((thrown(() => vault.open(sealed.replace(/^v2\./, 'v1.'))) as VaultTamperedError).reason).toBe('authentication');
  });

  it('still opens values of the unpadded v1 format, and says they need rotation', () => {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', K1, iv, { authTagLength: 16 });
    cipher.setAAD(Buffer.from('v1.k1\u0000messages|m1', 'utf8'));
    const ciphertext = Buffer.concat([cipher.update('an old text', 'utf8'), cipher.final()]);
    const old = ['v1', 'k1', iv.toString('base64url'), cipher.getAuthTag().toString('base64url'), ciphertext.toString('base64url')].join('.');
    expect(vault.isSealed(old)).toBe(true);
    expect(vault.open(old, 'messages|m1')).toBe('an old text');
    expect(vault.needsRotation(old)).toBe(true);
    expect(vault.needsRotation(vault.seal('an old text'))).toBe(false);
  });

  it('gives keyed pseudonyms: stable per key and purpose, unrelated otherwise, and listed for every key of the ring', () => {
    const same = new Vault({ keys: { k1: K1 }, currentKeyId: 'k1' });
    const a = vault.pseudonym('12345', 'chat');
    expect(a).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(same.pseudonym('12345', 'chat')).toBe(a);
    expect(vault.pseudonym('12346', 'chat')).not.toBe(a);
    expect(vault.pseudonym('12345', 'user')).not.toBe(a);
    expect(new Vault({ keys: { k1: K2 }, currentKeyId: 'k1' }).pseudonym('12345', 'chat')).not.toBe(a);
    const ring = new Vault({ keys: { k1: K1, k2: K2 }, currentKeyId: 'k2' });
    expect(ring.pseudonyms('12345', 'chat')).toEqual([ring.pseudonym('12345', 'chat', 'k2'), a]);
    expect(thrown(() => vault.pseudonym('1', 'chat', 'k9'))).toBeInstanceOf(VaultKeyUnknownError);
  });

  it('withRandomKey gives a working vault with its own key', () => {
    const a = Vault.withRandomKey();
    const b = Vault.withRandomKey('test');
    expect(a.currentKeyId).toBe('local');
    expect(b.keyIds).toEqual(['test']);
    expect(a.open(a.seal('hi'))).toBe('hi');
    expect(thrown(() => b.open(a.seal('hi')))).toBeInstanceOf(VaultKeyUnknownError);
  });
});

describe('parseKeyring', () => {
  it('reads ids and keys in order; the first key is current unless one is named', () => {
    const ring = parseKeyring(` k1:${K1.toString('base64')} , k2:${K2.toString('base64url')},`);
    expect(ring.currentKeyId).toBe('k1');
    expect([...ring.keys.keys()]).toEqual(['k1', 'k2']);
    expect(ring.keys.get('k1')?.equals(K1)).toBe(true);
    expect(ring.keys.get('k2')?.equals(K2)).toBe(true);
    expect(parseKeyring(spec(['k1', K1], ['k2', K2]), 'k2').currentKeyId).toBe('k2');
    const vault = new Vault(parseKeyring(spec(['k1', K1], ['k2', K2]), 'k2'));
    expect(vault.keyIdOf(vault.seal('x'))).toBe('k2');
  });

  it.each([
    ['', undefined, 'empty', undefined],
    [' , ', undefined, 'empty', undefined],
    ['k1', undefined, 'entry_format', 1],
    [`k1:${'A'.repeat(43)}=,bad id:${'A'.repeat(43)}=`, undefined, 'key_id', 2],
    [`:${'A'.repeat(43)}=`, undefined, 'key_id', 1],
    ['k1:c2hvcnQ=', undefined, 'key_length', 1],
    [`k1:${'A'.repeat(43)}=!`, undefined, 'key_length', 1],
    [`k1:${'A'.repeat(43)}=,k1:${'B'.repeat(43)}=`, undefined, 'duplicate_id', 2],
    [`k1:${'A'.repeat(43)}=`, 'k2', 'current_unknown', undefined],
    [`k1:${'A'.repeat(43)}=`, 'not valid!', 'key_id', undefined],
  ])('rejects %j (current %j) as %s', (input, current, problem, entry) => {
    const error = thrown(() => parseKeyring(input, current));
    expect(error).toBeInstanceOf(VaultKeyringError);
    expect((error as VaultKeyringError).problem).toBe(problem);
    expect((error as VaultKeyringError).entry).toBe(entry);
  });

  it('does not echo a malformed key id, which might be a pasted key', () => {
    // A whole key pasted where the id goes (too long for an id, and it ends in `=`).
    const error = thrown(() => parseKeyring(`${K1.toString('base64')}:${K2.toString('base64')}`)) as VaultKeyringError;
    expect(error.problem).toBe('key_id');
    expect(error.keyId).toBeUndefined();
    expect(error.message).toBe('entry 1: key id must be 1–24 letters, digits, _ or -');
  });
});
