export { classifyByPhrases } from './phrases';
export type { RiskLevel, PhraseMatch } from './phrases';
export { CrisisDetector, parseClassifierAnswer, CLASSIFIER_PROMPT, ClassifierTimeoutError, UnreadableClassifierAnswerError } from './classifier';
export type { RiskAssessment, RiskSource, CrisisDetectorOptions } from './classifier';
export { HOTLINES, HOTLINES_ELSEWHERE } from './hotlines';
export type { Hotline } from './hotlines';
