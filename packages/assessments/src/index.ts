export { PHQ9, GAD7, QUESTIONNAIRES, ANSWER_SCALE, INSTRUMENT_NOTICE } from './questionnaires';
export type { Questionnaire, QuestionnaireId, AssessmentLocale, Band } from './questionnaires';
export { scoreAssessment, InvalidAnswersError, nextRetestAt, RETEST_INTERVAL_DAYS } from './scoring';
export type { AssessmentScore } from './scoring';
