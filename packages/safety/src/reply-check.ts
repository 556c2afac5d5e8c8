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
  { name: 'reply.minimum_height', match: rx(r`\b(?:at least|no lower than|minimum(?: of)?|above|higher than|не ниже|минимум|хотя бы|выше)\s+(?:the\s+|a\s+)?(?:\d+|\p{L}+)(?:th|st|nd|rd|-?го|-?ого)?\s*(?:floors?|storeys?|stories|meters|metres|feet|этаж\p{L}*|метр\p{L}*)|\b(?:floors?|этаж\p{L}*)\s+(?:не ниже|не меньше|no lower than|at least)\b`) },
  { name: 'reply.make_sure_it_works', match: rx(r`(?:make sure it works|so (?:that )?it works|for it to work|to be (?:sure|certain)|наверняка|чтобы точно|чтобы сработало|для верности)[^.\n]{0,60}?\b(?:alcohol|pills|rope|floor|jump\w*|bridge|overdos\w*|cut\w*|veins?|artery|benzo\w*|этаж\p{L}*|таблет\p{L}*|вер[её]вк\p{L}*|вен\p{L}*|прыг\p{L}*|алкогол\p{L}*)|\b(?:alcohol|pills|rope|floor|jump\w*|bridge|overdos\w*|veins?|этаж\p{L}*|таблет\p{L}*|вер[её]вк\p{L}*|вен\p{L}*|алкогол\p{L}*)\b[^.\n]{0,60}?(?:make sure it works|so (?:that )?it works|for it to work|наверняка|чтобы точно|чтобы сработало|для верности)`) },
  { name: 'reply.ligature', match: rx(r`\b(?:belt|rope|cord|scarf|cable|ремень|ремн\p{L}*|вер[её]вк\p{L}*|шнур\p{L}*|шарф\p{L}*)\b[^.\n]{0,30}?\b(?:door ?handle|doorknob|beam|hook|rail|pipe|дверн\p{L}* ручк\p{L}*|ручк\p{L}* двери|балк\p{L}*|крюк\p{L}*|перекладин\p{L}*|труб\p{L}*)`) },
  { name: 'reply.artery_or_vein_advice', match: rx(r`\b(?:need to|have to|should|must|you'?d|нужно|надо|следует)\s+(?:\w+\s+)?(?:reach|hit|cut|sever|open|задеть|перерезать|достать до|вскрыть)\s+(?:the\s+|an?\s+)?(?:\p{L}+\s+)?(?:arter|артери)\p{L}*|\b(?:veins?|pills?|floor|height|dose|вен\p{L}*|таблет\p{L}*|этаж\p{L}*|доз\p{L}*)\b[^.\n]{0,30}?\b(?:won'?t work|will not work|doesn'?t work|isn'?t enough|not enough|не сработа\p{L}*|не хватит|недостаточно)\b(?![^.\n]{0,20}\b(?:immediately|right away|overnight|straight away|сразу))`) },
  { name: 'reply.time_to_die', match: rx(r`\b${METHOD}\b[^.\n]{0,50}?\b(?:minutes?|seconds?|минут\p{L}*|секунд\p{L}*|lose consciousness|loses consciousness|pass out|теря\p{L}* сознани\p{L}*|потер\p{L}* сознани\p{L}*)|\b(?:minutes?|seconds?|минут\p{L}*|секунд\p{L}*|lose consciousness|pass out|теря\p{L}* сознани\p{L}*)\b[^.\n]{0,50}?\b(?:${METHOD}|повешени\p{L}*|утоплени\p{L}*)`) },
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
