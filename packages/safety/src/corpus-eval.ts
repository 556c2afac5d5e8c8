/**
 * Measures the offline layer against the crisis corpus (packages/safety/corpus/*.jsonl, format in
 * the corpus README): recall on `risk` lines (flagged at any level) and the false-alarm rate on
 * `ordinary` lines (flagged at any level). The corpus has a development part, which the rules are
 * written from, and a held-out part, which must never be looked at by whoever writes the rules; so
 * only aggregate numbers ever leave this module for the held-out part.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { classifyByPhrases, type RiskLevel } from './phrases';

export type CorpusPart = 'dev' | 'heldout';
export type CorpusLanguage = 'en' | 'ru';
export const CORPUS_PARTS: readonly CorpusPart[] = ['dev', 'heldout'];
export const CORPUS_LANGUAGES: readonly CorpusLanguage[] = ['en', 'ru'];

export interface CorpusItem {
  text: string;
  label: 'risk' | 'ordinary';
  category: string;
}

/** A corpus line that is not valid JSON or not in the shared format. Carries the line number only. */
export class CorpusFormatError extends Error {
  constructor(
    readonly file: string,
    readonly line: number,
  ) {
    super(`${file}:${line}: not a corpus line ({"text","label":"risk"|"ordinary","category"})`);
    this.name = 'CorpusFormatError';
  }
}

/** Parses JSON Lines in the corpus format; blank lines are skipped. Throws CorpusFormatError. */
export function parseCorpus(jsonl: string, file = 'corpus'): CorpusItem[] {
  const items: CorpusItem[] = [];
  jsonl.split('\n').forEach((line, index) => {
    if (line.trim() === '') return;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      throw new CorpusFormatError(file, index + 1);
    }
    const v = value as Partial<CorpusItem> | null;
    if (!v || typeof v.text !== 'string' || (v.label !== 'risk' && v.label !== 'ordinary') || typeof v.category !== 'string') {
      throw new CorpusFormatError(file, index + 1);
    }
    items.push({ text: v.text, label: v.label, category: v.category });
  });
  return items;
}

export interface Miss {
  text: string;
  label: CorpusItem['label'];
  category: string;
  level: RiskLevel;
}

export interface CorpusMetrics {
  risk: number;
  /** Share of risk lines flagged at any level, 0..1 (1 when there are none). */
  recall: number;
  ordinary: number;
  /** Share of ordinary lines flagged at any level, 0..1 (0 when there are none). */
  falseAlarmRate: number;
  /** Counts per category of the lines the layer got wrong. */
  missedByCategory: Record<string, number>;
}

/** Runs `classify` (the offline layer by default) over the items; pure apart from calling it. */
export function evaluateCorpus(items: readonly CorpusItem[], classify: (text: string) => RiskLevel = (t) => classifyByPhrases(t).level): { metrics: CorpusMetrics; misses: Miss[] } {
  let risk = 0;
  let caught = 0;
  let ordinary = 0;
  let alarms = 0;
  const misses: Miss[] = [];
  const missedByCategory: Record<string, number> = {};
  for (const item of items) {
    const level = classify(item.text);
    const flagged = level !== 'none';
    if (item.label === 'risk') {
      risk++;
      if (flagged) caught++;
    } else {
      ordinary++;
      if (flagged) alarms++;
    }
    if (flagged !== (item.label === 'risk')) {
      misses.push({ text: item.text, label: item.label, category: item.category, level });
      missedByCategory[item.category] = (missedByCategory[item.category] ?? 0) + 1;
    }
  }
  return { metrics: { risk, recall: risk === 0 ? 1 : caught / risk, ordinary, falseAlarmRate: ordinary === 0 ? 0 : alarms / ordinary, missedByCategory }, misses };
}

/** Where the corpus lives in this package. */
export const CORPUS_DIR = join(__dirname, '..', 'corpus');

export function corpusFile(dir: string, part: CorpusPart, language: CorpusLanguage): string {
  return join(dir, `${part}.${language}.jsonl`);
}

// The development part grows in batches written at different times (dev.en.jsonl, dev2.en.jsonl,
// …), so it is every `dev*.<language>.jsonl`; the held-out part is exactly one file.
async function partFiles(dir: string, part: CorpusPart, language: CorpusLanguage): Promise<string[]> {
  if (part !== 'dev') return [corpusFile(dir, part, language)];
  const batch = new RegExp(`^dev[\\w-]*\\.${language}\\.jsonl$`, 'u');
  return (await readdir(dir)).filter((name) => batch.test(name)).sort().map((name) => join(dir, name));
}

/**
 * Reads one part and language of the corpus (for the development part, all its batch files
 * together); `null` when no file exists.
 */
export async function readCorpus(dir: string, part: CorpusPart, language: CorpusLanguage): Promise<CorpusItem[] | null> {
  const items: CorpusItem[] = [];
  let found = false;
  for (const file of await partFiles(dir, part, language)) {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw error;
    }
    found = true;
    items.push(...parseCorpus(text, file));
  }
  return found ? items : null;
}

export interface CorpusReport {
  part: CorpusPart;
  language: CorpusLanguage;
  /** false when the file is absent (the held-out part lives on another branch until merged). */
  present: boolean;
  metrics?: CorpusMetrics;
  /** Only for the development part: the held-out texts must stay unseen. */
  misses?: Miss[];
}

/**
 * Evaluates every part and language found in `dir`. Misclassified texts are returned for the
 * development part only; for the held-out part only aggregate numbers (including no per-category
 * miss counts, which would hint at its contents).
 */
export async function evaluateCorpusDir(dir: string): Promise<CorpusReport[]> {
  const reports: CorpusReport[] = [];
  for (const part of CORPUS_PARTS) {
    for (const language of CORPUS_LANGUAGES) {
      const items = await readCorpus(dir, part, language);
      if (items === null) {
        reports.push({ part, language, present: false });
        continue;
      }
      const { metrics, misses } = evaluateCorpus(items);
      reports.push(part === 'dev' ? { part, language, present: true, metrics, misses } : { part, language, present: true, metrics: { ...metrics, missedByCategory: {} } });
    }
  }
  return reports;
}
