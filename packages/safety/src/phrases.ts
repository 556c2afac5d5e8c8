/**
 * The offline layer of crisis detection: a reviewed list of Russian and English patterns for
 * suicidal thoughts and self-harm, direct and indirect. It is deliberately broad (a false alarm
 * costs a gentle safety message; a miss can cost a life) but excludes well-known idioms
 * ("I'm dying to see the movie", "убил время", "kill it at work").
 *
 * Levels: `high` — intent, plan, wish to die, self-harm; `low` — hopelessness and indirect signs
 * that call for a gentle check-in.
 */
export type RiskLevel = 'none' | 'low' | 'high';

interface Pattern {
  level: Exclude<RiskLevel, 'none'>;
  re: RegExp;
}

// Russian word stems are matched loosely (inflections); \b does not work for Cyrillic in JS
// regular expressions, so word starts are written as (?<![\p{L}]) with the `u` flag.
const W = '(?<![\\p{L}])';

const PATTERNS: readonly Pattern[] = [
  // English: direct
  { level: 'high', re: /\b(kill(ing)?|hang(ing)?|shoot(ing)?|drown(ing)?) my ?self\b/i },
  { level: 'high', re: /\b(end|take) my (own )?life\b|\bend it all\b/i },
  { level: 'high', re: /\bsuicid(e|al)\b/i },
  { level: 'high', re: /\b(want|wanna|plan(ning)?|ready|deserve) to die\b/i },
  { level: 'high', re: /\b(hurt(ing)?|harm(ing)?|cut(ting)?|burn(ing)?) my ?self\b/i },
  { level: 'high', re: /\bself[- ]?harm/i },
  { level: 'high', re: /\b(better off dead|rather be dead|wish i (was|were) dead|wish i had never been born)\b/i },
  { level: 'high', re: /\b(don'?t|do not) want to (live|be alive|exist|wake up)\b/i },
  { level: 'high', re: /\b(no|any) (reason|point) (to|in) (live|living|go on|going on)\b/i },
  { level: 'high', re: /\b(overdose|jump off|slit my wrists?)\b/i },
  // English: indirect
  { level: 'high', re: /\b(everyone|they|people|world) (would|will) be better off without me\b/i },
  { level: 'high', re: /\b(i want|i wish i could) (to )?(disappear|vanish|not exist|fall asleep and never wake up)\b/i },
  { level: 'low', re: /\b(i can'?t|cannot) (go on|take (it|this) any ?more|do this any ?more)\b/i },
  { level: 'low', re: /\b(i'?m|i am) (a burden|worthless|hopeless)\b/i },
  { level: 'low', re: /\b(nothing|life) (matters|is pointless|has no meaning)\b/i },
  // Russian: direct
  { level: 'high', re: new RegExp(`${W}(покончить|кончать|кончить) с собой`, 'iu') },
  { level: 'high', re: new RegExp(`${W}(убить|убью|убиваю) себя`, 'iu') },
  { level: 'high', re: new RegExp(`${W}суицид|${W}самоубийств|${W}суициднул`, 'iu') },
  { level: 'high', re: new RegExp(`${W}(хочу|хочется|собираюсь|готов[аы]?) умереть`, 'iu') },
  { level: 'high', re: new RegExp(`${W}(не хочу|не хочется|незачем|нет смысла|не могу) (больше )?жить`, 'iu') },
  { level: 'high', re: new RegExp(`${W}(повеситься|повешусь|вскрыть вены|вскрою вены|спрыгнуть с|прыгнуть с крыши|выпить таблетки|наглотаться таблеток|отравиться)`, 'iu') },
  { level: 'high', re: new RegExp(`${W}(режу|резать|порезать|поранить|причинить вред|наношу вред) себ`, 'iu') },
  { level: 'high', re: new RegExp(`${W}селфхарм|${W}самоповрежд`, 'iu') },
  { level: 'high', re: new RegExp(`${W}лучше бы (я )?(умер(ла)?|меня не было|не родил(ся|ась))`, 'iu') },
  { level: 'high', re: new RegExp(`${W}(уйти из жизни|свести счёты с жизнью|свести счеты с жизнью|наложить на себя руки)`, 'iu') },
  // Russian: indirect
  { level: 'high', re: new RegExp(`${W}(всем|им|миру) (будет )?лучше без меня`, 'iu') },
  { level: 'high', re: new RegExp(`${W}хочу (исчезнуть|уснуть и не проснуться|перестать существовать)`, 'iu') },
  { level: 'low', re: new RegExp(`${W}(больше не могу|не вижу выхода|нет выхода|всё бессмысленно|все бессмысленно|жизнь бессмысленна)`, 'iu') },
  { level: 'low', re: new RegExp(`${W}я (всем )?(обуза|никому не нужен|никому не нужна|ничтожество)`, 'iu') },
];

/** Idioms that contain alarming words but are not about harm. Removed before matching. */
const IDIOMS: readonly RegExp[] = [
  /\b(dying|die) (to|for) (see|try|know|hear|go|get|have|meet)\b/gi,
  /\bkill(ing|ed)? (time|it|the (game|lights|engine|mood))\b/gi,
  /\b(to )?die for\b/gi,
  /\bbored to death\b/gi,
  /\b(die|dying|died) (of|from) (embarrassment|laughter|laughing|boredom|shame|cuteness)\b/gi,
  new RegExp(`${W}(убил[аи]?|убить|убиваю|убивать) время`, 'giu'),
  new RegExp(`${W}умираю (от смеха|со смеху|как хочу)`, 'giu'),
  new RegExp(`${W}(до смерти|смертельно) (устал|надоел|скучно)`, 'giu'),
];

export interface PhraseMatch {
  level: RiskLevel;
}

/** Classifies one message with the phrase list. Pure and fast; never throws. */
export function classifyByPhrases(text: string): PhraseMatch {
  let cleaned = text.normalize('NFKC').replace(/[’`]/g, "'").replace(/ё/g, 'е').replace(/Ё/g, 'Е');
  for (const idiom of IDIOMS) cleaned = cleaned.replace(idiom, ' ');
  let level: RiskLevel = 'none';
  for (const p of PATTERNS) {
    if (p.re.test(cleaned)) {
      if (p.level === 'high') return { level: 'high' };
      level = 'low';
    }
  }
  return { level };
}
