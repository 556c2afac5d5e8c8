import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CorpusFormatError, evaluateCorpus, evaluateCorpusDir, parseCorpus, readCorpus } from './corpus-eval';

const CORPUS_DIR = join(__dirname, '..', 'corpus');
const line = (text: string, label: string, category = 'direct') => JSON.stringify({ text, label, category });

describe('parseCorpus', () => {
  it('reads JSON Lines in the shared format and skips blank lines', () => {
    expect(parseCorpus(`${line('a', 'risk')}\n\n${line('b', 'ordinary', 'idiom')}\n`)).toEqual([
      { text: 'a', label: 'risk', category: 'direct' },
      { text: 'b', label: 'ordinary', category: 'idiom' },
    ]);
  });

  it('rejects a line that is not JSON or not in the format, naming the line only', () => {
    expect(() => parseCorpus(`${line('a', 'risk')}\n{oops`, 'x.jsonl')).toThrow(new CorpusFormatError('x.jsonl', 2));
    expect(() => parseCorpus(line('secret text', 'maybe'))).toThrow(CorpusFormatError);
    try {
      parseCorpus(line('secret text', 'maybe'));
    } catch (error) {
      expect((error as Error).message).not.toContain('secret');
    }
  });
});

describe('evaluateCorpus', () => {
  it('counts recall on risk and false alarms on ordinary, a flag at any level counting', () => {
    const items = parseCorpus([line('r1', 'risk'), line('r2', 'risk'), line('o1', 'ordinary', 'idiom'), line('o2', 'ordinary', 'idiom')].join('\n'));
    const levels: Record<string, 'none' | 'low' | 'high'> = { r1: 'low', r2: 'none', o1: 'high', o2: 'none' };
    const { metrics, misses } = evaluateCorpus(items, (t) => levels[t]!);
    expect(metrics).toEqual({ risk: 2, recall: 0.5, ordinary: 2, falseAlarmRate: 0.5, missedByCategory: { direct: 1, idiom: 1 } });
    expect(misses.map((m) => m.text)).toEqual(['r2', 'o1']);
  });

  it('defines empty parts without dividing by zero', () => {
    expect(evaluateCorpus([]).metrics).toEqual({ risk: 0, recall: 1, ordinary: 0, falseAlarmRate: 0, missedByCategory: {} });
  });
});

describe('evaluateCorpusDir', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'corpus-'));
    await writeFile(join(dir, 'dev.en.jsonl'), [line('I want to kill myself', 'risk'), line('nice weather', 'ordinary', 'everyday')].join('\n'));
    await writeFile(join(dir, 'heldout.en.jsonl'), [line('what a lovely walk', 'risk'), line('I want to kill myself', 'ordinary', 'everyday')].join('\n'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('reports a missing part as missing, not as an error', async () => {
    expect(await readCorpus(dir, 'dev', 'ru')).toBeNull();
    const reports = await evaluateCorpusDir(dir);
    expect(reports.map((r) => [r.part, r.language, r.present])).toEqual([
      ['dev', 'en', true],
      ['dev', 'ru', false],
      ['heldout', 'en', true],
      ['heldout', 'ru', false],
    ]);
  });

  it('reads every dev batch of a language as the development part', async () => {
    await writeFile(join(dir, 'dev2.en.jsonl'), line('bye forever', 'risk', 'goodbye'));
    try {
      expect((await readCorpus(dir, 'dev', 'en'))!.map((i) => i.text)).toEqual(['I want to kill myself', 'nice weather', 'bye forever']);
    } finally {
      await rm(join(dir, 'dev2.en.jsonl'));
    }
  });

  it('gives misclassified texts for the development part only; the held-out part stays aggregate', async () => {
    const [devEn, , heldoutEn] = await evaluateCorpusDir(dir);
    expect(devEn!.misses).toEqual([]);
    expect(heldoutEn!.metrics).toMatchObject({ risk: 1, recall: 0, ordinary: 1, falseAlarmRate: 1, missedByCategory: {} });
    expect(heldoutEn!.misses).toBeUndefined();
    expect(JSON.stringify(heldoutEn)).not.toContain('lovely');
  });
});

// A regression guard on the development corpus: it can fail when a rule change costs recall or adds
// false alarms. (The held-out part is measured separately and never used to write rules.)
describe('offline layer on the development corpus', () => {
  it.each(['en', 'ru'] as const)('%s: recall >= 98%% and false alarms <= 3%%', async (language) => {
    const items = await readCorpus(CORPUS_DIR, 'dev', language);
    expect(items).not.toBeNull();
    const { metrics } = evaluateCorpus(items!);
    expect(metrics.risk).toBeGreaterThanOrEqual(170);
    expect(metrics.ordinary).toBeGreaterThanOrEqual(170);
    expect(metrics.recall).toBeGreaterThanOrEqual(0.98);
    expect(metrics.falseAlarmRate).toBeLessThanOrEqual(0.03);
  });
});
