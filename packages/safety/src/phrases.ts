/**
 * The offline layer of crisis detection: named Russian and English rules per category
 * (`rules/en.ts`, `rules/ru.ts`) over normalised text (`normalize.ts`). It is the only check before
 * consent, while a person is rate-limited or over budget, and whenever the model classifier wrongly
 * says NONE, so it is deliberately broad: a false alarm costs a gentle safety message, a miss can
 * cost a life.
 *
 * Risk is checked first; idioms ("I'm dying to see it", "умираю от смеха") only discard a hit
 * whose whole span lies inside an idiom match, so "I want to die for real" stays high.
 *
 * Levels: `high` — intent, plan, wish to die, self-harm, preparation, method-seeking; `low` —
 * hopelessness and burden without a death meaning, which call for a gentle check-in.
 */
import { normalizeText } from './normalize';
import { EN_RULES } from './rules/en';
import { IDIOMS } from './rules/idioms';
import { toDoc, type Doc, type Rule, type Span } from './rules/matchers';
import { RU_RULES } from './rules/ru';

export type RiskLevel = 'none' | 'low' | 'high';

export interface PhraseMatch {
  level: RiskLevel;
  /** Names of the rules that fired (e.g. "ru.direct.pokonchit_s_soboy"); never any of the text. */
  rules: string[];
}

// Each language's rules and idioms need letters of its alphabet to match anything, so a message
// in one alphabet skips the other language's rules (half the work for most messages).
const EN_IDIOMS = IDIOMS.filter((i) => i.name.startsWith('en.'));
const RU_IDIOMS = IDIOMS.filter((i) => i.name.startsWith('ru.'));

// A hit about someone else ("my friend said she wants to die", "брат в юности резал себе руки")
// is not the writer's own risk: a third-person subject before it in the same sentence, and no
// first person in that sentence up to the end of the hit. Russian drops the first-person pronoun
// ("попрощалась с друзьями, они не знают…"), so only Russian nouns count there, not он/она/они.
const OTHERS = /(?<![\p{L}'])(?:he|she|they|friend|friends|brother|sister|mom|mum|mother|dad|father|son|daughter|wife|husband|boyfriend|girlfriend|partner|colleague|coworker|classmate|cousin|uncle|aunt|grandma|grandpa|grandmother|grandfather|neighbou?r|character|hero|villain|guy|girl|kid|teen|teenager|someone|somebody|patient|client|друг|подруга|брат|сестра|мама|папа|мать|отец|сын|дочь|дочка|муж|жена|парень|девушка|коллега|сосед|соседка|персонаж|герой|злодей|бабушка|дедушка|подросток|знакомый|знакомая|ребенок|одноклассник|одноклассница)(?![\p{L}'])/u;
const FIRST_PERSON = /(?<![\p{L}'])(?:i|i'm|im|i've|ive|i'd|i'll|me|myself|я|меня|мне|мной)(?![\p{L}'])/u;

function aboutSomeoneElse(text: string, hit: Span): boolean {
  const sentenceStart = Math.max(text.lastIndexOf('.', hit.start - 1), text.lastIndexOf('!', hit.start - 1), text.lastIndexOf('?', hit.start - 1), text.lastIndexOf(';', hit.start - 1)) + 1;
  const before = text.slice(sentenceStart, hit.start);
  return OTHERS.test(before) && !FIRST_PERSON.test(text.slice(sentenceStart, hit.end));
}

// Only as a whole-run check on evenly spaced letters ("i w a n t t o d i e" → "iwanttodie"), where
// word boundaries are lost; never on ordinary text, where "wanttodie" could hide in "want to diet".
const SPACED_KEY_PHRASES = /kil+myself|kms|wan(?:t|na)(?:to)?die|suicid|endmylife|endital|unaliv|hangmyself|cutmyself|hurtmyself|selfharm|убитьсебя|убьюсебя|хочуумереть|хочусдохнуть|поконч\p{L}*ссобой|ссобойпоконч|суицид|самоубийств|выпил(?:иться|юсь)|роскомнадзор|повешусь|повеситься|вскрытьвены|вскроювены|нехочужить|житьнехочу|кил+майселф/u;

const JOKE = /(?<![\p{L}])(?:jk|j\/k|just kidding|just joking|kidding|joking|шучу|шутка|шуткую)(?![\p{L}])/u;
const NOT_JOKE = /(?:не шучу|не шутка|not (?:joking|kidding)|no joke|i'?m serious|серьезно)/u;

function insideIdiom(hit: Span, idioms: readonly Span[]): boolean {
  return idioms.some((i) => i.start <= hit.start && hit.end <= i.end);
}

function hitStands(rule: Rule, doc: Doc, hit: Span, idioms: readonly Span[]): boolean {
  if (insideIdiom(hit, idioms)) return false;
  if (rule.unlessFollowedBy?.test(doc.text.slice(hit.end))) return false;
  if (rule.unlessContext?.test(doc.text.slice(Math.max(0, hit.start - 60), hit.end + 60))) return false;
  if (rule.hyperbole && JOKE.test(doc.text) && !NOT_JOKE.test(doc.text)) return false;
  return !aboutSomeoneElse(doc.text, hit);
}

function firedRules(form: string): Rule[] {
  const doc = toDoc(form);
  const latin = /[a-z]/.test(form);
  const cyrillic = /[а-я]/.test(form);
  const rules = [...(latin ? EN_RULES : []), ...(cyrillic ? RU_RULES : [])];
  const idioms = [...(latin ? EN_IDIOMS : []), ...(cyrillic ? RU_IDIOMS : [])].flatMap((i) => i.match(doc));
  return rules.filter((rule) => rule.match(doc).some((hit) => hitStands(rule, doc, hit, idioms)));
}

/**
 * Classifies one message with the offline rules. Pure, synchronous, well under a millisecond for a
 * chat message; never throws (an internal error counts as `high`, failing closed like the model
 * layer). Returns the level and the names of the rules that fired.
 */
export function classifyByPhrases(text: string): PhraseMatch {
  try {
    const normalized = normalizeText(text);
    const fired = new Set<Rule>();
    for (const form of normalized.forms) for (const rule of firedRules(form)) fired.add(rule);
    const rules = [...fired].map((r) => r.name);
    if (normalized.spacedRuns.some((run) => SPACED_KEY_PHRASES.test(run))) rules.push('spaced.key_phrase');
    const level: RiskLevel = [...fired].some((r) => r.level === 'high') || rules.includes('spaced.key_phrase') ? 'high' : fired.size > 0 ? 'low' : 'none';
    return { level, rules };
  } catch {
    return { level: 'high', rules: ['internal_error'] };
  }
}
