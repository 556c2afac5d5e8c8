import { serviceUrls, uniquePrefix } from '@inner-talk/testkit';
import { Vault } from '@inner-talk/vault';
import { AssessmentStore, ASSESSMENT_HEADS_COLLECTION, connectMongo, MIGRATIONS_COLLECTION, SESSION_HEADS_COLLECTION, SessionStore, type MongoConnection } from './index';

const at = (minute: number) => new Date(Date.UTC(2026, 4, 5, 12, minute));
const score = { total: 7, band: 'mild', item9Flag: false };

describe('per-person indexes of sessions and self-check runs', () => {
  let mongo: MongoConnection;
  let sessions: SessionStore;
  let runs: AssessmentStore;

  beforeAll(async () => {
    mongo = await connectMongo(serviceUrls().mongoUrl, uniquePrefix('pidx').replace(/[^A-Za-z0-9_]/g, '_'));
    const vault = Vault.withRandomKey();
    sessions = new SessionStore(mongo.db, { vault });
    runs = new AssessmentStore(mongo.db, { vault });
    await sessions.ensureIndexes();
    await runs.ensureIndexes();
  });
  afterAll(async () => {
    await mongo.db.dropDatabase();
    await mongo.close();
  });

  async function session(userId: string, id: string, minute: number, summary: string | null): Promise<void> {
    await sessions.start({ id, userId, at: at(minute), turnKey: `${id}-start`, previousSessionId: null });
    await sessions.end({ id, at: at(minute + 1), reason: 'command', turnKey: `${id}-end`, summary });
  }

  it('lists summaries newest first, skips sessions without one, and forgets a deleted one', async () => {
    await session('tg:1', 's1', 0, 'first');
    await session('tg:1', 's2', 10, null);
    await session('tg:1', 's3', 20, 'third');
    expect((await sessions.summaries('tg:1', 10)).map((s) => s.summary)).toEqual(['third', 'first']);
    expect((await sessions.summaries('tg:1', 1)).map((s) => s.id)).toEqual(['s3']);
    expect((await sessions.lastEnded('tg:1'))?.id).toBe('s3');
    // Another person's ids never match, even by id.
    expect(await sessions.summaries('tg:2', 10)).toEqual([]);
    expect(await sessions.delete('tg:2', 's3')).toBe(false);
    expect(await sessions.delete('tg:1', 's3')).toBe(true);
    expect((await sessions.summaries('tg:1', 10)).map((s) => s.id)).toEqual(['s1']);
    expect(await sessions.lastEnded('tg:1')).toBeNull();
    // Ending again (a retry) changes nothing and keeps the index as it was.
    expect(await sessions.end({ id: 's1', at: at(99), reason: 'command', turnKey: 'again', summary: 'other' })).toBe(false);
    expect((await sessions.summaries('tg:1', 10)).map((s) => s.summary)).toEqual(['first']);
  });

  it('indexes sessions and runs stored before the index existed, once', async () => {
    await session('tg:3', 'old1', 0, 'older');
    await session('tg:3', 'old2', 5, 'newer');
    await runs.startRun({ id: 'r1', userId: 'tg:3', questionnaire: 'gad7', at: at(0), turnKey: 'r1' });
    expect(await runs.complete({ id: 'r1', expectedIndex: 0, answers: [1], score, at: at(1), turnKey: 'r1a' })).toBe(true);
    await runs.startRun({ id: 'r2', userId: 'tg:3', questionnaire: 'phq9', at: at(2), turnKey: 'r2' });
    // As stored before: no per-person index documents, no migration markers.
    await mongo.db.collection(SESSION_HEADS_COLLECTION).deleteOne({ _id: 'tg:3' as never });
    await mongo.db.collection(ASSESSMENT_HEADS_COLLECTION).deleteOne({ _id: 'tg:3' as never });
    expect(await sessions.summaries('tg:3', 10)).toEqual([]);
    expect(await runs.latestResult('tg:3', 'gad7')).toBeNull();
    await mongo.db.collection(MIGRATIONS_COLLECTION).deleteMany({});

    await sessions.ensureIndexes();
    await runs.ensureIndexes();
    expect((await sessions.summaries('tg:3', 10)).map((s) => s.summary)).toEqual(['newer', 'older']);
    expect((await sessions.lastEnded('tg:3'))?.id).toBe('old2');
    expect(await runs.latestResult('tg:3', 'gad7')).toMatchObject({ id: 'r1', status: 'completed', score });
    // The active run is known again: starting another abandons it.
    await runs.startRun({ id: 'r3', userId: 'tg:3', questionnaire: 'phq9', at: at(3), turnKey: 'r3' });
    expect(await runs.run('r2')).toMatchObject({ status: 'abandoned', answers: [] });

    // Once done, a start does not scan again: a person stored now without an index stays so.
    await mongo.db.collection(SESSION_HEADS_COLLECTION).deleteOne({ _id: 'tg:3' as never });
    await sessions.ensureIndexes();
    expect(await sessions.summaries('tg:3', 10)).toEqual([]);
  });

  it('the server answers `_id` lookups from its `_id` index, not by scanning', async () => {
    const explained = await mongo.db.command({ explain: { find: 'sessions', filter: { _id: 's1' } } });
    const plan = JSON.stringify(explained.queryPlanner);
    // FerretDB on SQLite reports SQLite's plan ("SEARCH … USING INDEX" / "SCAN"), MongoDB its stages.
    expect(plan).toMatch(/USING INDEX|IDHACK|EXPRESS_IXSCAN|IXSCAN/);
    expect(plan).not.toMatch(/COLLSCAN|detail=SCAN /);
  });
});
