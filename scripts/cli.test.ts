import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { MongoClient } from 'mongodb';
import { ConversationStore } from '@inner-talk/storage';
import { repoRoot, serviceUrls, uniquePrefix } from '@inner-talk/testkit';
import { Vault } from '@inner-talk/vault';

function cli(args: string[], input = '', env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [require.resolve('tsx/cli'), 'scripts/cli.ts', ...args], {
    cwd: repoRoot(),
    input,
    encoding: 'utf8',
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    timeout: 30_000,
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe('operator CLI', () => {
  it('classifies one message per line with the phrase list', () => {
    const { code, out } = cli(['safety', 'classify'], "I want to kill myself\nI'm dying to see the movie\nбольше не могу\n");
    expect(code).toBe(0);
    expect(out.trim().split('\n').map((l) => JSON.parse(l))).toEqual([
      { level: 'high', sources: ['phrases'] },
      { level: 'none', sources: [] },
      { level: 'low', sources: ['phrases'] },
    ]);
  });

  it('evaluates the offline layer on the crisis corpus and ends with one JSON line', () => {
    const { code, out } = cli(['safety', 'eval']);
    expect(code).toBe(0);
    const lines = out.trim().split('\n');
    expect(lines[0]).toMatch(/^dev +en +risk \d+ +recall [\d.]+% +ordinary \d+ +false alarms [\d.]+%$/);
    expect(lines.slice(0, 4).map((l) => l.split(/ +/).slice(0, 2).join(' '))).toEqual(['dev en', 'dev ru', 'heldout en', 'heldout ru']);
    const summary = JSON.parse(lines[lines.length - 1]!);
    expect(Object.keys(summary)).toEqual(['dev', 'heldout']);
    expect(summary.dev.ru).toMatchObject({ risk: expect.any(Number), recall: expect.any(Number), ordinary: expect.any(Number), false_alarm_rate: expect.any(Number) });
    expect(cli(['safety', 'eval', '--everything']).code).toBe(2);
  });

  it('scores PHQ-9 and flags item 9', () => {
    const { code, out } = cli(['assess', 'score', 'phq9', '1,1,1,1,1,1,1,1,1']);
    expect(code).toBe(0);
    expect(JSON.parse(out)).toEqual({ total: 9, band: 'mild', item9_flag: true });
  });

  it('scores GAD-7', () => {
    expect(JSON.parse(cli(['assess', 'score', 'gad7', '3,3,3,3,3,0,0']).out)).toEqual({ total: 15, band: 'severe', item9_flag: false });
  });

  it('rejects bad input with exit code 2 and a reason', () => {
    const bad = cli(['assess', 'score', 'phq9', '1,2']);
    expect(bad.code).toBe(2);
    expect(bad.err).toContain('expected 9 answers, got 2');
    expect(cli(['assess', 'score', 'bdi', '1']).code).toBe(2);
    expect(cli(['nonsense']).err).toContain('usage:');
  });

  it('rotates stored data to the current key, audits it, and names a missing key ring without echoing values', async () => {
    const { mongoUrl } = serviceUrls();
    const dbName = uniquePrefix('cli_rotate');
    const [k1, k2] = [randomBytes(32), randomBytes(32)];
    const mongo = new MongoClient(mongoUrl);
    try {
      const db = mongo.db(dbName);
      const old = new ConversationStore(db, { vault: new Vault({ keys: new Map([['k1', k1]]), currentKeyId: 'k1' }) });
      await old.saveMessage({ userId: 'tg:1', turnKey: 'u1', role: 'user', text: 'тревожно перед экзаменом', at: new Date() });
      const env = { MONGO_URL: mongoUrl, MONGO_DB: dbName, DATA_ENCRYPTION_KEYS: `k2:${k2.toString('base64')},k1:${k1.toString('base64')}` };
      const run = cli(['keys', 'rotate'], '', env);
      expect(run).toMatchObject({ code: 0 });
      expect(JSON.parse(run.out)).toMatchObject({ key_id: 'k2', resealed: 1, unreadable: 0 });
      // Now k2 alone reads it; the rotation is in the audit log without any text.
      const after = new ConversationStore(db, { vault: new Vault({ keys: new Map([['k2', k2]]), currentKeyId: 'k2' }) });
      expect((await after.recentMessages('tg:1', 10)).map((m) => m.text)).toEqual(['тревожно перед экзаменом']);
      const audit = await db.collection('audit_log').find({ action: 'keys.rotate' }).toArray();
      expect(audit).toEqual([expect.objectContaining({ actor: 'operator:cli', details: expect.objectContaining({ keyId: 'k2', resealed: 1 }) })]);
      expect(JSON.stringify(audit)).not.toContain('тревожно');

      const missing = cli(['keys', 'rotate'], '', { MONGO_URL: mongoUrl, MONGO_DB: dbName, DATA_ENCRYPTION_KEYS: 'k1:not-a-key' });
      expect(missing.code).toBe(2);
      expect(missing.err).toContain('DATA_ENCRYPTION_KEYS');
      expect(missing.err).not.toContain('not-a-key');
    } finally {
      await mongo.db(dbName).dropDatabase();
      await mongo.close();
    }
  }, 60_000);
});
