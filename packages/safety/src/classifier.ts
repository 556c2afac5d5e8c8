import type { ChatProvider } from '@inner-talk/llm';
import { classifyByPhrases, type RiskLevel } from './phrases';

/** Which layer raised the level. `classifier_error` means the model layer failed and we failed closed. */
export type RiskSource = 'phrases' | 'classifier' | 'classifier_error';

export interface RiskAssessment {
  level: RiskLevel;
  sources: RiskSource[];
}

/**
 * The classifier prompt is fixed and asks for one word, so the answer is cheap to get and hard to
 * misread; the person's message goes in as data, after the instructions.
 */
export const CLASSIFIER_PROMPT = [
  'You are a safety classifier for a wellbeing chat. Read the user message and decide the risk of suicide or self-harm.',
  'Answer with exactly one word: HIGH (any wish to die, suicidal thoughts, plans, or self-harm, direct or indirect),',
  'LOW (hopelessness, feeling like a burden, cannot go on, without mention of death or harm), or NONE.',
  'Idioms ("dying to see it", "killed time") are NONE. Never answer anything else.',
].join(' ');

const ORDER: Record<RiskLevel, number> = { none: 0, low: 1, high: 2 };

function maxLevel(a: RiskLevel, b: RiskLevel): RiskLevel {
  return ORDER[a] >= ORDER[b] ? a : b;
}

/** Reads the classifier's one-word answer; anything unexpected counts as HIGH (fail closed). */
export function parseClassifierAnswer(answer: string): RiskLevel {
  const word = answer.trim().toUpperCase().replace(/[^A-Z]/g, '');
  if (word === 'NONE') return 'none';
  if (word === 'LOW') return 'low';
  return 'high';
}

export interface CrisisDetectorOptions {
  /** The model layer; without it only the phrase list runs. */
  model?: ChatProvider;
  timeoutMs?: number;
}

/**
 * Two-layer crisis detection. The phrase list always runs; the model classifier runs when
 * configured. The result is the higher of the two levels. Fails closed: a classifier error,
 * timeout or unreadable answer counts as `high` (source `classifier_error`).
 */
export class CrisisDetector {
  constructor(private readonly options: CrisisDetectorOptions = {}) {}

  async assess(text: string): Promise<RiskAssessment> {
    const phrases = classifyByPhrases(text);
    const sources: RiskSource[] = phrases.level === 'none' ? [] : ['phrases'];
    let level = phrases.level;
    const model = this.options.model;
    if (!model) return { level, sources };
    try {
      const result = await model.complete({
        system: CLASSIFIER_PROMPT,
        turns: [{ role: 'user', text }],
        maxOutputTokens: 5,
        temperature: 0,
        timeoutMs: this.options.timeoutMs ?? 8_000,
      });
      const byModel = parseClassifierAnswer(result.text);
      if (byModel !== 'none') sources.push('classifier');
      level = maxLevel(level, byModel);
    } catch {
      sources.push('classifier_error');
      level = 'high';
    }
    return { level, sources };
  }
}
