import type { ChatProvider } from '@inner-talk/llm';
import { classifyByPhrases, type RiskLevel } from './phrases';

/** Which layer raised the level. `classifier_error` means the model layer failed and we failed closed. */
export type RiskSource = 'phrases' | 'classifier' | 'classifier_error';

export interface RiskAssessment {
  level: RiskLevel;
  sources: RiskSource[];
  /**
   * Set when the model classifier could not answer (an error, a refusal, no answer in time, an
   * answer that is not one of the three words). `level` is then `high` (fail closed); a caller that
   * can do better than treating the message as a crisis (tell the person, ask again later) reads
   * this, the reason in `cause`.
   */
  classifierFailure?: { cause: unknown };
}

/** The classifier gave no answer within its budget (the model call itself did not end in time). */
export class ClassifierTimeoutError extends Error {
  override readonly name = 'ClassifierTimeoutError';
  constructor(readonly timeoutMs: number) {
    super(`the crisis classifier gave no answer within ${timeoutMs} ms`);
  }
}

/** The classifier answered something other than HIGH, LOW or NONE. The answer is not kept: it may quote the message. */
export class UnreadableClassifierAnswerError extends Error {
  override readonly name = 'UnreadableClassifierAnswerError';
  constructor() {
    super('the crisis classifier answered something other than HIGH, LOW or NONE');
  }
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

/**
 * Room for the one word and what a model may wrap around it ("HIGH." or a newline). Thinking is
 * off (`thinkingBudget: 0`): Gemini 2.5 Flash thinks by default and its thinking counts against
 * this limit, which left no word at all with a limit of 5.
 */
const CLASSIFIER_MAX_OUTPUT_TOKENS = 16;

/**
 * The classifier's own deadline comes this long after the model layer's: the model layer ending the
 * call itself says more (the gateway says when a provider can be asked again), and this deadline
 * is only for a model layer that does not keep its budget.
 */
const OWN_DEADLINE_MARGIN_MS = 250;

const ORDER: Record<RiskLevel, number> = { none: 0, low: 1, high: 2 };

function maxLevel(a: RiskLevel, b: RiskLevel): RiskLevel {
  return ORDER[a] >= ORDER[b] ? a : b;
}

/** Reads the classifier's one-word answer (its first word, case and punctuation aside); null when it is none of HIGH, LOW, NONE. */
export function parseClassifierAnswer(answer: string): RiskLevel | null {
  const word = (answer.trim().split(/\s+/)[0] ?? '').toUpperCase().replace(/[^A-Z]/g, '');
  if (word === 'NONE') return 'none';
  if (word === 'LOW') return 'low';
  if (word === 'HIGH') return 'high';
  return null;
}

export interface CrisisDetectorOptions {
  /** The model layer; without it only the phrase list runs. */
  model?: ChatProvider;
  /** Budget of one classifier call, from asking to the answer; default 8 s. */
  timeoutMs?: number;
}

/** `work`, or ClassifierTimeoutError once `ms` have passed, whichever comes first. */
async function within<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new ClassifierTimeoutError(ms)), ms);
  });
  try {
    return await Promise.race([work, late]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Two-layer crisis detection. The phrase list always runs; the model classifier runs when
 * configured, unless the phrase list already says high (the answer could not change the level, and
 * a crisis reply must not wait for a model). The result is the higher of the two levels.
 *
 * Fails closed: when the classifier cannot answer — an error (a refusal too), no answer within
 * `timeoutMs` (enforced here as well, 250 ms later, whatever the model layer does with its own budget), or an
 * answer that is not one of the three words — the level is `high` (source `classifier_error`) and
 * `classifierFailure` says why.
 */
export class CrisisDetector {
  constructor(private readonly options: CrisisDetectorOptions = {}) {}

  /** Assesses one message; never throws (see the class doc). */
  async assess(text: string): Promise<RiskAssessment> {
    const phrases = classifyByPhrases(text);
    const sources: RiskSource[] = phrases.level === 'none' ? [] : ['phrases'];
    const model = this.options.model;
    if (!model || phrases.level === 'high') return { level: phrases.level, sources };
    const timeoutMs = this.options.timeoutMs ?? 8_000;
    try {
      const result = await within(
        model.complete({
          system: CLASSIFIER_PROMPT,
          turns: [{ role: 'user', text }],
          maxOutputTokens: CLASSIFIER_MAX_OUTPUT_TOKENS,
          thinkingBudget: 0,
          temperature: 0,
          timeoutMs,
        }),
        timeoutMs + OWN_DEADLINE_MARGIN_MS,
      );
      const byModel = parseClassifierAnswer(result.text);
      if (byModel === null) throw new UnreadableClassifierAnswerError();
      if (byModel !== 'none') sources.push('classifier');
      return { level: maxLevel(phrases.level, byModel), sources };
    } catch (cause) {
      return { level: 'high', sources: [...sources, 'classifier_error'], classifierFailure: { cause } };
    }
  }
}
