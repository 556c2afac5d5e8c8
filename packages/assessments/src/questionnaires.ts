/**
 * PHQ-9 and GAD-7 as published (free to use), with the answer scale and severity bands. Texts are
 * the standard English wording and the commonly used Russian translation; they are data, not prose,
 * so they live here rather than in the conversation's locale files.
 */
export type QuestionnaireId = 'phq9' | 'gad7';
export type AssessmentLocale = 'ru' | 'en';

export interface Band {
  /** Stable id used in storage and code. */
  id: 'minimal' | 'mild' | 'moderate' | 'moderately_severe' | 'severe';
  /** Inclusive bounds of the total score. */
  min: number;
  max: number;
}

export interface Questionnaire {
  id: QuestionnaireId;
  title: Record<AssessmentLocale, string>;
  stem: Record<AssessmentLocale, string>;
  items: Record<AssessmentLocale, readonly string[]>;
  bands: readonly Band[];
}

export const ANSWER_SCALE: Record<AssessmentLocale, readonly [string, string, string, string]> = {
  en: ['Not at all', 'Several days', 'More than half the days', 'Nearly every day'],
  ru: ['Ни разу', 'Несколько дней', 'Более половины дней', 'Почти каждый день'],
};

/** The notice the instruments' authors ask to be shown with them. */
export const INSTRUMENT_NOTICE = 'Developed by Drs. Spitzer, Williams, Kroenke and colleagues, with an educational grant from Pfizer Inc.';

export const PHQ9: Questionnaire = {
  id: 'phq9',
  title: { en: 'PHQ-9 (depression)', ru: 'PHQ-9 (депрессия)' },
  stem: {
    en: 'Over the last 2 weeks, how often have you been bothered by any of the following problems?',
    ru: 'Как часто за последние 2 недели вас беспокоили следующие проблемы?',
  },
  items: {
    en: [
      'Little interest or pleasure in doing things',
      'Feeling down, depressed, or hopeless',
      'Trouble falling or staying asleep, or sleeping too much',
      'Feeling tired or having little energy',
      'Poor appetite or overeating',
      'Feeling bad about yourself — or that you are a failure or have let yourself or your family down',
      'Trouble concentrating on things, such as reading the newspaper or watching television',
      'Moving or speaking so slowly that other people could have noticed? Or the opposite — being so fidgety or restless that you have been moving around a lot more than usual',
      'Thoughts that you would be better off dead or of hurting yourself in some way',
    ],
    ru: [
      'Вам не хотелось ничего делать, или это не приносило удовольствия',
      'У вас было плохое настроение, вы были подавлены или испытывали чувство безысходности',
      'Вам было трудно заснуть, у вас был прерывистый сон, или вы слишком много спали',
      'Вы были утомлены, или у вас было мало сил',
      'У вас был плохой аппетит, или вы переедали',
      'Вы плохо о себе думали: считали себя неудачником (неудачницей), были в себе разочарованы или считали, что подвели свою семью',
      'Вам было трудно сосредоточиться, например на чтении газеты или на просмотре телепередач',
      'Вы двигались или говорили настолько медленно, что окружающие это замечали? Или, наоборот, были настолько суетливы или взбудоражены, что двигались гораздо больше обычного',
      'Вас посещали мысли о том, что вам лучше было бы умереть, или о том, чтобы причинить себе какой-нибудь вред',
    ],
  },
  bands: [
    { id: 'minimal', min: 0, max: 4 },
    { id: 'mild', min: 5, max: 9 },
    { id: 'moderate', min: 10, max: 14 },
    { id: 'moderately_severe', min: 15, max: 19 },
    { id: 'severe', min: 20, max: 27 },
  ],
};

export const GAD7: Questionnaire = {
  id: 'gad7',
  title: { en: 'GAD-7 (anxiety)', ru: 'GAD-7 (тревога)' },
  stem: {
    en: 'Over the last 2 weeks, how often have you been bothered by the following problems?',
    ru: 'Как часто за последние 2 недели вас беспокоили следующие проблемы?',
  },
  items: {
    en: [
      'Feeling nervous, anxious, or on edge',
      'Not being able to stop or control worrying',
      'Worrying too much about different things',
      'Trouble relaxing',
      'Being so restless that it is hard to sit still',
      'Becoming easily annoyed or irritable',
      'Feeling afraid, as if something awful might happen',
    ],
    ru: [
      'Вы нервничали, тревожились или были очень взвинчены',
      'Вы были не в состоянии успокоиться или контролировать своё волнение',
      'Вы слишком сильно волновались по разным поводам',
      'Вам было трудно расслабиться',
      'Вы были настолько суетливы, что вам было тяжело усидеть на месте',
      'Вы легко злились или раздражались',
      'Вы испытывали страх, словно должно произойти что-то ужасное',
    ],
  },
  bands: [
    { id: 'minimal', min: 0, max: 4 },
    { id: 'mild', min: 5, max: 9 },
    { id: 'moderate', min: 10, max: 14 },
    { id: 'severe', min: 15, max: 21 },
  ],
};

export const QUESTIONNAIRES: Readonly<Record<QuestionnaireId, Questionnaire>> = { phq9: PHQ9, gad7: GAD7 };
