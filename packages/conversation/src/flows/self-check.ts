import {
  ANSWER_SCALE,
  INSTRUMENT_NOTICE,
  nextRetestAt,
  QUESTIONNAIRES,
  scoreAssessment,
  type AssessmentScore,
  type Band,
  type QuestionnaireId,
} from '@inner-talk/assessments';
import { encodeAction, runIdFor, type Action } from '../actions';
import { fill, formatDate, type Locale, type Texts } from '../locales';
import type { Reply, SelfCheckRunState } from '../types';
import { invalidateContext } from './context';
import { crisisReply, type Turn } from './turn';

/**
 * Self-checks (PHQ-9, GAD-7): a menu, then one question per message with the four answer buttons.
 * Progress lives in storage, so any worker continues a run. Every answer button carries the run id
 * and the question index; an answer is stored only if the run is still at that question, so an old
 * button can never change a later answer.
 *
 * PHQ-9 item 9 (thoughts of death or self-harm) above 0 brings the crisis reply with hotlines and a
 * text-free risk event, whatever the total. Item 9 is the last PHQ-9 question, so "when it is
 * answered" and "at the end" are the same moment; the crisis reply comes first, before the score,
 * so that it is not buried under numbers.
 */

const BAND_LABEL: Record<Band['id'], keyof Texts> = {
  minimal: 'bandMinimal',
  mild: 'bandMild',
  moderate: 'bandModerate',
  moderately_severe: 'bandModeratelySevere',
  severe: 'bandSevere',
};

const BAND_EXPLANATION: Record<Band['id'], keyof Texts> = {
  minimal: 'explainMinimal',
  mild: 'explainMild',
  moderate: 'explainModerate',
  moderately_severe: 'explainModeratelySevere',
  severe: 'explainSevere',
};

/** PHQ-9 item 9 is the ninth answer. */
const ITEM9_INDEX = 8;

function isQuestionnaireId(value: string): value is QuestionnaireId {
  return Object.hasOwn(QUESTIONNAIRES, value);
}

function isBandId(value: string): value is Band['id'] {
  return Object.hasOwn(BAND_LABEL, value);
}

/** The /test menu. */
export function testMenu(locale: Locale, texts: Texts): Reply[] {
  const buttons = (['phq9', 'gad7'] as const).map((id) => [{ label: QUESTIONNAIRES[id].title[locale], action: encodeAction({ kind: 'test', questionnaire: id }) }]);
  return [{ text: texts.testMenu, buttons }];
}

function questionReply(questionnaire: QuestionnaireId, runId: string, index: number, locale: Locale, texts: Texts): Reply {
  const q = QUESTIONNAIRES[questionnaire];
  const items = q.items[locale];
  return {
    text: fill(texts.testQuestion, { title: q.title[locale], number: index + 1, count: items.length, item: items[index] ?? '' }),
    buttons: ANSWER_SCALE[locale].map((label, value) => [{ label, action: encodeAction({ kind: 'answer', runId, index, value }) }]),
  };
}

function resultReplies(questionnaire: QuestionnaireId, score: Pick<AssessmentScore, 'total' | 'band' | 'item9Flag'>, locale: Locale, texts: Texts): Reply[] {
  const q = QUESTIONNAIRES[questionnaire];
  const parts = [
    fill(texts.testResult, { title: q.title[locale], total: score.total, max: q.items.en.length * 3, band: texts[BAND_LABEL[score.band]] }),
    texts[BAND_EXPLANATION[score.band]],
    ...(score.total >= 10 ? [texts.suggestProfessional] : []),
    texts.testNotDiagnosis,
    INSTRUMENT_NOTICE,
  ];
  const result: Reply = { text: parts.join('\n\n') };
  return score.item9Flag ? [crisisReply(texts.crisisItem9, locale, texts), result] : [result];
}

/** What the person sees for a run as it stands: its current question, or its result. */
function replayRun(run: SelfCheckRunState, questionnaire: QuestionnaireId, locale: Locale, texts: Texts): Reply[] {
  if (run.status === 'completed' && run.score && isBandId(run.score.band)) {
    return resultReplies(questionnaire, { total: run.score.total, band: run.score.band, item9Flag: run.score.item9Flag }, locale, texts);
  }
  if (run.status === 'active') return [questionReply(questionnaire, run.id, run.index, locale, texts)];
  return [{ text: texts.staleChoice }];
}

/**
 * The person chose a questionnaire: refuse a retest sooner than RETEST_INTERVAL_DAYS after the last
 * completed one (with the date it becomes available), otherwise start a run (abandoning any other)
 * and ask the first question. The same event handled twice starts one run.
 */
export async function startSelfCheck(turn: Turn<'choice'>, questionnaire: QuestionnaireId): Promise<Reply[]> {
  const { selfChecks } = turn.deps;
  const { userId, turnKey, now, locale, texts } = turn;
  const q = QUESTIONNAIRES[questionnaire];
  const runId = runIdFor(userId, turnKey);
  const existing = await selfChecks.run(runId);
  if (existing) return [{ text: fill(texts.testStarted, { title: q.title[locale], count: q.items[locale].length, stem: q.stem[locale] }) }, ...replayRun(existing, questionnaire, locale, texts)];

  const last = await selfChecks.latestResult(userId, questionnaire);
  if (last?.completedAt) {
    const availableAt = nextRetestAt(last.completedAt);
    if (now < availableAt) {
      return [{ text: fill(texts.testRetestTooSoon, { title: q.title[locale], date: formatDate(last.completedAt, locale), nextDate: formatDate(availableAt, locale) }) }];
    }
  }
  const run = await selfChecks.startRun({ id: runId, userId, questionnaire, at: now, turnKey });
  return [{ text: fill(texts.testStarted, { title: q.title[locale], count: q.items[locale].length, stem: q.stem[locale] }) }, ...replayRun(run, questionnaire, locale, texts)];
}

/**
 * An answer button. A button of another person's run, of a finished or abandoned run, or of a
 * question already answered changes nothing: the person is told it is no longer active and, if the
 * run is still going, sees its current question again.
 */
export async function answerSelfCheck(turn: Turn<'choice'>, action: Extract<Action, { kind: 'answer' }>): Promise<Reply[]> {
  const { selfChecks, memory } = turn.deps;
  const { userId, turnKey, now, locale, texts } = turn;
  const run = await selfChecks.run(action.runId);
  if (!run || run.userId !== userId || !isQuestionnaireId(run.questionnaire)) return [{ text: texts.staleChoice }];
  const questionnaire = run.questionnaire;
  // The same press handled again after its answer was stored: answer as the first time did.
  if (run.lastTurnKey === turnKey) return replayRun(run, questionnaire, locale, texts);
  if (run.status !== 'active' || run.index !== action.index) {
    return run.status === 'active' ? [{ text: texts.staleChoice }, questionReply(questionnaire, run.id, run.index, locale, texts)] : [{ text: texts.staleChoice }];
  }

  const answers = [...run.answers, action.value];
  const count = QUESTIONNAIRES[questionnaire].items.en.length;
  if (answers.length < count) {
    const stored = await selfChecks.recordAnswer({ id: run.id, expectedIndex: action.index, answers, at: now, turnKey });
    if (!stored) return [{ text: texts.staleChoice }];
    return [questionReply(questionnaire, run.id, answers.length, locale, texts)];
  }

  const score = scoreAssessment(questionnaire, answers);
  if (score.item9Flag) {
    // Before the result is stored: if the job dies in between, the retried press records it again
    // (idempotent per turn) rather than completing without it.
    const item9 = answers[ITEM9_INDEX] ?? 0;
    await memory.recordRiskEvent({ userId, turnKey, level: item9 >= 2 ? 'high' : 'low', sources: ['phq9_item9'], at: now });
  }
  const stored = await selfChecks.complete({
    id: run.id,
    expectedIndex: action.index,
    answers,
    score: { total: score.total, band: score.band, item9Flag: score.item9Flag },
    at: now,
    turnKey,
  });
  if (!stored) return [{ text: texts.staleChoice }];
  await invalidateContext(turn);
  return resultReplies(questionnaire, score, locale, texts);
}
