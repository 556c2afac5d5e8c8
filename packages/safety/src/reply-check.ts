/**
 * Output safety for model replies (ru/en): a reply must never hand a person in crisis a method,
 * a lethal dose or quantity, instructions, or a place ("the bridge is high enough", "a lethal dose
 * of paracetamol is…", "нужно принять 20 таблеток", "высота 9 этажа смертельна"). Supportive
 * replies that name suicide, crisis lines, medication in safe terms ("talk to your doctor about
 * your medication") or use "die"/"kill" in ordinary senses pass.
 *
 * The rules look for the combination that makes information usable — a quantity next to a lethal
 * word, a method next to a rating of it, a height next to "enough"/"fatal", an instruction verb
 * next to a noose — rather than for alarming words alone, which supportive replies need to use.
 */
import { normalizeText } from './normalize';
import { rx, toDoc, type Matcher } from './rules/matchers';

const r = String.raw;

// Ten or more pills, or any amount with a unit of mass, volume, insulin or blood alcohol.
const QUANTITY = r`(?:(?:[1-9]\d+|ten|twenty|thirty|forty|fifty|sixty|hundred|a hundred|десят\p{L}*|двадцат\p{L}*|тридцат\p{L}*|сорок\p{L}*|пятьдесят\p{L}*|сто)\s+(?:\p{L}+\s+){0,2}?(?:tablets?|pills?|capsules?|таблет\p{L}*|капсул\p{L}*|пачк\p{L}*|упаковк\p{L}*)|\d+(?:[.,]\d+)?\s*(?:mg|мг|g|г|grams?|грамм\p{L}*|units?|единиц\p{L}*|ml|мл|промилле|%|mg\/kg|мг\/кг)(?![\p{L}\d]))`;
const LETHAL = r`(?:lethal|fatal|deadly|toxic|overdos\w*|kill\w*|die|dies|death|enough|for sure|stop your breathing|liver will fail|won'?t wake|смертельн\p{L}*|летальн\p{L}*|токсичн\p{L}*|передозировк\p{L}*|смерт\p{L}*|умереть|насмерть|наверняка|откачали|откажет|хватит|достаточно)`;
const METHOD = r`(?:hanging|jumping|drowning|overdos\w*|carbon monoxide|helium|suffocation|bleeding out|gunshot|повешение|утопление|угарн\p{L}* газ|передозировк\p{L}*|удушение|прыжок)`;
const RATING = r`(?:quick\w*|painless\w*|reliable|certain|effective|sure|surest|instant\w*|peaceful|быстр\p{L}*|безболезненн\p{L}*|надежн\p{L}*|наверняка|верн\p{L}*|эффективн\p{L}*)`;
const HEIGHT = r`(?:floors?|storeys?|stor(?:y|ies)|bridge|roof|building|height|meters|metres|feet|этаж\p{L}*|мост\p{L}*|крыш\p{L}*|высот\p{L}*|метр\p{L}*)`;
const FATAL_FALL = r`(?:fatal|deadly|lethal|high enough|is enough|be enough|enough to|survive|certain death|смертельн\p{L}*|разбиться|насмерть|выжить|достаточно|хватит|умереть)`;

interface ReplyRule {
  name: string;
  match: Matcher;
}

const REPLY_RULES: readonly ReplyRule[] = [
  { name: 'reply.lethal_quantity', match: rx(r`${LETHAL}[^\n]{0,90}?${QUANTITY}|${QUANTITY}[^\n]{0,60}?${LETHAL}`) },
  { name: 'reply.lethal_dose_stated', match: rx(r`\b(?:lethal|fatal|toxic|deadly|смертельн\p{L}*|летальн\p{L}*|токсичн\p{L}*)\s+(?:dose|amount|quantity|level|доз\p{L}*|количеств\p{L}*)\b[^.\n]{0,40}?(?:\bis\b|\bare\b|\bstarts\b|составляет|начинается|\s—|:|\bоколо\b|\babout\b|\baround\b|\broughly\b|\bпримерно\b)`) },
  { name: 'reply.dose_per_weight', match: rx(r`\d+(?:[.,]\d+)?\s*(?:mg|мг|g|г|units?|ед\p{L}*|единиц\p{L}*)\s*(?:per|\/|на|за)\s*(?:kg|кг|kilo\w*|килограмм\p{L}*)`) },
  { name: 'reply.take_all', match: rx(r`\b(?:take|swallow|выпей|выпейте|выпить|прими|примите|принять|проглоти|проглотите)\s+(?:all|все|всю|every)\s+(?:of\s+)?(?:the\s+|your\s+|эти\s+)?(?:\p{L}+\s+)?(?:pills|tablets|meds|таблетки|таблеток|пачку|упаковку|лекарства)`) },
  { name: 'reply.mix_quantity', match: rx(r`\b(?:mix\w*|combin\w*|смеша\p{L}*|запе\p{L}*|запи\p{L}*)\b[^.\n]{0,30}?${QUANTITY}`) },
  { name: 'reply.noose_instructions', match: rx(r`\b(?:how to|to|here'?s how to|here is how to|first|you can|simply|чтобы|как|сначала)\s+(?:tie|make|knot|завязать|сделать|связать|завяжите)\s+(?:a\s+|the\s+)?(?:noose|петлю)|\b(?:noose|петл\p{L}*)\b[^.\n]{0,40}?\b(?:wrap|coil|loop|fold|knot|обмота\p{L}*|сложите|сложить|узел\p{L}*|обернит\p{L}*)`) },
  { name: 'reply.method_rated', match: rx(r`\b${METHOD}\b[^.\n]{0,40}?\b${RATING}|\b(?:most|least|самый|самым|самое)\s+(?:\p{L}+\s+)?(?:painless|painful|reliable|effective|certain|quick|безболезненн\p{L}*|надежн\p{L}*|быстр\p{L}*|эффективн\p{L}*)\s+(?:way|method|способ\p{L}*)|\b(?:quickest|fastest|easiest|surest|быстрее всего|проще всего|надежнее всего)\b\s*(?:way|method|способ)?\s*(?:is|would be|—|-|:|это)`) },
  { name: 'reply.cutting_instructions', match: rx(r`\b(?:cut|cutting|резать|режь|режьте|порезать)\b\s+(?:\p{L}+\s+){0,2}?(?:along|vertically|lengthwise|deeper|вдоль|глубже|вертикально)\b`) },
  { name: 'reply.fatal_height', match: rx(r`\b${HEIGHT}\b[^.\n]{0,50}?\b${FATAL_FALL}|\b${FATAL_FALL}\b[^.\n]{0,30}?\b${HEIGHT}\b`) },
];

export interface ReplyCheck {
  /** true when the reply must not be sent as it is. */
  unsafe: boolean;
  /** Names of the rules that fired (e.g. "reply.lethal_quantity"); never any of the text. */
  reasons: string[];
}

/**
 * Decides whether a model reply (ru/en) is unsafe to send to a person who may be in crisis: it
 * gives methods, means, lethal doses or quantities, instructions for self-harm or suicide, or
 * places and heights. Works on normalised text (obfuscation undone). Pure and synchronous; never
 * throws (an internal error counts as unsafe, so the caller falls back to a safe reply).
 */
export function checkReply(reply: string): ReplyCheck {
  try {
    const reasons = new Set<string>();
    for (const form of normalizeText(reply).forms) {
      const doc = toDoc(form);
      for (const rule of REPLY_RULES) if (rule.match(doc).length > 0) reasons.add(rule.name);
    }
    return { unsafe: reasons.size > 0, reasons: [...reasons] };
  } catch {
    return { unsafe: true, reasons: ['internal_error'] };
  }
}
