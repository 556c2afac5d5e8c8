import { encodeAction, MAX_ACTION_BYTES, newNonce, parseAction, runIdFor, type Action } from './actions';

describe('button actions', () => {
  const samples: Action[] = [
    { kind: 'language', locale: 'ru' },
    { kind: 'language', locale: 'en' },
    { kind: 'adult', confirmed: true },
    { kind: 'adult', confirmed: false },
    { kind: 'consent', given: true },
    { kind: 'consent', given: false },
    { kind: 'test', questionnaire: 'phq9' },
    { kind: 'test', questionnaire: 'gad7' },
    { kind: 'answer', runId: runIdFor('tg:9007199254740991', 'u9007199254740991'), index: 8, value: 3 },
    { kind: 'forget', confirmed: true, nonce: newNonce() },
    { kind: 'forget', confirmed: false },
    { kind: 'delete_summary', sessionId: `s${runIdFor('tg:9007199254740991', 'u9007199254740991')}`, nonce: newNonce() },
  ];

  it.each(samples.map((a) => [encodeAction(a), a] as const))('%s round-trips and fits Telegram callback_data', (encoded, action) => {
    expect(Buffer.byteLength(encoded, 'utf8')).toBeLessThanOrEqual(MAX_ACTION_BYTES);
    expect(parseAction(encoded)).toEqual(action);
  });

  it('derives the same 16-character run id from the same event, another from another', () => {
    expect(runIdFor('tg:1', 'u5')).toBe(runIdFor('tg:1', 'u5'));
    expect(runIdFor('tg:1', 'u5')).not.toBe(runIdFor('tg:1', 'u6'));
    expect(runIdFor('tg:1', 'u5')).toMatch(/^[A-Za-z0-9_-]{16}$/);
  });

  it('makes a fresh unguessable nonce each time', () => {
    const nonces = new Set(Array.from({ length: 100 }, () => newNonce()));
    expect(nonces.size).toBe(100);
    for (const nonce of nonces) expect(nonce).toMatch(/^[A-Za-z0-9_-]{12}$/);
  });

  it('reads buttons without a nonce (earlier versions, forged) with an empty one, so they are refused', () => {
    expect(parseAction('f:y')).toEqual({ kind: 'forget', confirmed: true, nonce: '' });
    expect(parseAction('h:d:sabc')).toEqual({ kind: 'delete_summary', sessionId: 'sabc', nonce: '' });
  });

  it.each(['', 'l:de', 'f:y:', 'f:y:a b', `f:y:${'n'.repeat(25)}`, 'h:d:s1:', 'o:cy ', 't:phq10', 'a:run:0:4', 'a:run:-1:0', 'a:r!n:0:1', 'a::0:1', `a:${'x'.repeat(40)}:0:1`, 'x'.repeat(65)])('rejects %j', (raw) => {
    expect(parseAction(raw)).toBeNull();
  });
});
