import { QUESTIONNAIRES, type Band, type QuestionnaireId } from './questionnaires';

/** Raised for answers that cannot be scored: wrong count, or an answer outside 0–3. */
export class InvalidAnswersError extends Error {
  override readonly name = 'InvalidAnswersError';
  constructor(
    readonly questionnaire: QuestionnaireId,
    readonly problem: string,
  ) {
    super(`${questionnaire}: ${problem}`);
  }
}

export interface AssessmentScore {
  questionnaire: QuestionnaireId;
  total: number;
  band: Band['id'];
  /** PHQ-9 item 9 (thoughts of death or self-harm) answered above 0: start the crisis flow whatever the total. */
  item9Flag: boolean;
  /** Total of 10 or more: suggest seeing a professional (both instruments' usual cut-off). */
  suggestProfessional: boolean;
}

/**
 * Scores a completed questionnaire exactly as published: each item 0–3, the total is the sum, the
 * band is the one whose inclusive range holds the total. Pure; throws InvalidAnswersError for
 * anything but exactly one whole answer 0–3 per item.
 */
export function scoreAssessment(questionnaire: QuestionnaireId, answers: readonly number[]): AssessmentScore {
  const q = QUESTIONNAIRES[questionnaire];
  const expected = q.items.en.length;
  if (answers.length !== expected) throw new InvalidAnswersError(questionnaire, `expected ${expected} answers, got ${answers.length}`);
  answers.forEach((a, i) => {
    if (!Number.isInteger(a) || a < 0 || a > 3) throw new InvalidAnswersError(questionnaire, `answer ${i + 1} must be 0, 1, 2 or 3`);
  });
  const total = answers.reduce((sum, a) => sum + a, 0);
  const band = q.bands.find((b) => total >= b.min && total <= b.max);
  if (!band) throw new InvalidAnswersError(questionnaire, `total ${total} is outside every band`);
  return {
    questionnaire,
    total,
    band: band.id,
    item9Flag: questionnaire === 'phq9' && (answers[8] ?? 0) > 0,
    suggestProfessional: total >= 10,
  };
}

/** Days between retests of the same questionnaire. */
export const RETEST_INTERVAL_DAYS = 14;

/** When the same questionnaire may be taken again after one completed at `completedAt`. */
export function nextRetestAt(completedAt: Date): Date {
  return new Date(completedAt.getTime() + RETEST_INTERVAL_DAYS * 86_400_000);
}
