import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { scoreAssessment } from '@inner-talk/assessments';
import { serviceUrls, uniquePrefix } from '@inner-talk/testkit';
import { Vault } from '@inner-talk/vault';
import { AssessmentStore, ConsentStore, connectMongo, type MongoConnection, type SealingVault } from './index';

/** AES-256-GCM with a random key and the AAD bound in: enough to prove nothing is stored in the clear. */
function testVault(): SealingVault & { opened: string[] } {
  const key = randomBytes(32);
  const opened: string[] = [];
  return {
    opened,
    seal(plain, aad = '') {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', key, iv).setAAD(Buffer.from(aad));
      const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
      return ['t1', iv, cipher.getAuthTag(), body].map((p) => (typeof p === 'string' ? p : p.toString('base64url'))).join('.');
    },
    open(sealed, aad = '') {
      const [, iv, tag, body] = sealed.split('.').map((p) => Buffer.from(p, 'base64url'));
      const decipher = createDecipheriv('aes-256-gcm', key, iv!).setAAD(Buffer.from(aad)).setAuthTag(tag!);
      const plain = Buffer.concat([decipher.update(body!), decipher.final()]).toString('utf8');
      opened.push(aad);
      return plain;
    },
  };
}

describe('ConsentStore and AssessmentStore on a MongoDB wire-protocol server', () => {
  let mongo: MongoConnection;
  let consents: ConsentStore;
  let assessments: AssessmentStore;
  let vault: ReturnType<typeof testVault>;

  beforeAll(async () => {
    mongo = await connectMongo(serviceUrls().mongoUrl, uniquePrefix('cs').replace(/[^A-Za-z0-9_]/g, '_'));
    consents = new ConsentStore(mongo.db);
    vault = testVault();
    assessments = new AssessmentStore(mongo.db, { vault });
    await assessments.ensureIndexes();
  });
  afterAll(async () => {
    await mongo.db.dropDatabase();
    await mongo.close();
  });

  it('grantConsent makes a consented record, keeps an earlier 18+ confirmation and clears a decline', async () => {
    await consents.saveConsent({ userId: 'tg:1', step: 'declined', locale: 'ru', startedAt: new Date(1000), updatedAt: new Date(3000), adultConfirmedAt: new Date(2000), declinedAt: new Date(3000) });
    await consents.grantConsent('tg:1', 'en', new Date(5000), 'u7');
    const record = await consents.consentOf('tg:1');
    expect(record).toEqual({
      _id: 'tg:1', userId: 'tg:1', step: 'consented', locale: 'en',
      startedAt: new Date(1000), updatedAt: new Date(5000), adultConfirmedAt: new Date(2000),
      consentedAt: new Date(5000), lastActiveAt: new Date(5000), lastTurnKey: 'u7',
    });
    // As a fixture on an unknown person: one write makes a complete record.
    await consents.grantConsent('tg:2', 'ru', new Date(9000));
    expect(await consents.consentOf('tg:2')).toMatchObject({ step: 'consented', locale: 'ru', adultConfirmedAt: new Date(9000), consentedAt: new Date(9000) });
  });

  it('markActive moves the activity time of a stored person and creates no one', async () => {
    await consents.markActive('tg:never-seen', new Date(50));
    expect(await consents.consentOf('tg:never-seen')).toBeNull();
    await consents.markActive('tg:1', new Date(60_000));
    expect((await consents.consentOf('tg:1'))?.lastActiveAt).toEqual(new Date(60_000));
  });

  it('keeps one active run per person, writes an answer only at the expected question, and seals answers and scores', async () => {
    const first = await assessments.startRun({ id: 'run-a', userId: 'tg:5', questionnaire: 'gad7', at: new Date(100), turnKey: 'u1' });
    expect(first).toMatchObject({ status: 'active', index: 0, answers: [] });
    expect(await assessments.recordAnswer({ id: 'run-a', expectedIndex: 0, answers: [2], at: new Date(101), turnKey: 'u2' })).toBe(true);
    // A second press of the same (now old) button changes nothing.
    expect(await assessments.recordAnswer({ id: 'run-a', expectedIndex: 0, answers: [3], at: new Date(102), turnKey: 'u3' })).toBe(false);
    expect((await assessments.run('run-a'))?.answers).toEqual([2]);

    // The same start handled twice is one run; a new run abandons the old one and drops its answers.
    await assessments.startRun({ id: 'run-b', userId: 'tg:5', questionnaire: 'phq9', at: new Date(200), turnKey: 'u4' });
    expect(await assessments.startRun({ id: 'run-b', userId: 'tg:5', questionnaire: 'phq9', at: new Date(201), turnKey: 'u4' })).toMatchObject({ startedAt: new Date(200) });
    expect(await assessments.run('run-a')).toMatchObject({ status: 'abandoned', answers: [] });
    expect(await assessments.recordAnswer({ id: 'run-a', expectedIndex: 1, answers: [2, 1], at: new Date(202), turnKey: 'u5' })).toBe(false);

    const answers = [1, 2, 3, 0, 1, 2, 3, 0, 1];
    for (let i = 0; i < 8; i++) {
      expect(await assessments.recordAnswer({ id: 'run-b', expectedIndex: i, answers: answers.slice(0, i + 1), at: new Date(300 + i), turnKey: `q${i}` })).toBe(true);
    }
    const score = { total: 13, band: 'moderate', item9Flag: true };
    expect(await assessments.complete({ id: 'run-b', expectedIndex: 8, answers, score, at: new Date(400), turnKey: 'q8' })).toBe(true);
    expect(await assessments.complete({ id: 'run-b', expectedIndex: 8, answers, score, at: new Date(401), turnKey: 'q8' })).toBe(false);
    expect(await assessments.latestResult('tg:5', 'phq9')).toMatchObject({ id: 'run-b', status: 'completed', answers, score, completedAt: new Date(400) });
    expect(await assessments.latestResult('tg:5', 'gad7')).toBeNull();
    expect((await assessments.resultsOf('tg:5')).map((r) => r.id)).toEqual(['run-b']);

    const raw = await mongo.db.collection('assessments').find({ userId: 'tg:5' }).toArray();
    const json = JSON.stringify(raw);
    expect(json).not.toContain('moderate');
    expect(json).not.toContain('[1,2,3');
    expect(raw.find((d) => d._id === ('run-b' as never))).toMatchObject({ questionnaire: 'phq9', status: 'completed', index: 9 });
    expect(vault.opened).toContain('assessments|run-b');
  });

  it('stores every PHQ-9 result (each total, so every band, with item 9 at 0 and above) and answer list at one sealed length', async () => {
    const store = new AssessmentStore(mongo.db, { vault: Vault.withRandomKey() });
    const ids: string[] = [];
    for (let total = 0; total <= 27; total++) {
      for (const item9 of total === 0 ? [0] : total === 27 ? [3] : [0, 1]) {
        // Nine answers 0–3 summing to `total`, item 9 as given.
        const answers = [0, 0, 0, 0, 0, 0, 0, 0, item9];
        let rest = total - item9;
        for (let i = 0; i < 8 && rest > 0; i++) rest -= answers[i] = Math.min(3, rest);
        if (rest > 0) continue;
        const score = scoreAssessment('phq9', answers);
        const id = `len-${total}-${item9}`;
        ids.push(id);
        await store.startRun({ id, userId: `tg:len${total}${item9}`, questionnaire: 'phq9', at: new Date(1), turnKey: 'u1' });
        await mongo.db.collection<{ _id: string }>('assessments').updateOne({ _id: id }, { $set: { index: 8 } });
        expect(await store.complete({ id, expectedIndex: 8, answers, score: { total: score.total, band: score.band, item9Flag: score.item9Flag }, at: new Date(2), turnKey: 'u2' })).toBe(true);
      }
    }
    const docs = await mongo.db.collection<{ _id: string; result?: string; answers?: string }>('assessments').find({ _id: { $in: ids } }).toArray();
    expect(docs).toHaveLength(ids.length);
    const bands = new Set((await Promise.all(ids.map((id) => store.run(id)))).map((r) => `${r?.score?.band}|${r?.score?.item9Flag}`));
    expect(bands.size).toBe(10); // all five bands, each with item 9 at 0 and above 0
    expect(new Set(docs.map((d) => d.result?.length)).size).toBe(1);
    expect(new Set(docs.map((d) => d.answers?.length)).size).toBe(1);
  });

  it('detects a sealed value moved to another run (the AAD binds it to its record)', async () => {
    await assessments.startRun({ id: 'run-c', userId: 'tg:6', questionnaire: 'gad7', at: new Date(1), turnKey: 'u1' });
    await assessments.startRun({ id: 'run-d', userId: 'tg:7', questionnaire: 'gad7', at: new Date(1), turnKey: 'u1' });
    await assessments.recordAnswer({ id: 'run-c', expectedIndex: 0, answers: [3], at: new Date(2), turnKey: 'u2' });
    const runs = mongo.db.collection<{ _id: string; answers?: string }>('assessments');
    const sealed = (await runs.findOne({ _id: 'run-c' }))?.answers;
    await runs.updateOne({ _id: 'run-d' }, { $set: { answers: sealed } });
    await expect(assessments.run('run-d')).rejects.toThrow();
  });
});
