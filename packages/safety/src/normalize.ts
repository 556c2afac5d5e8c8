/**
 * Text normalisation for the offline crisis layer. People who write about harming themselves often
 * disguise the words (to get past filters, or out of shame): homoglyphs from the other alphabet,
 * zero-width characters, leetspeak, letters spaced apart, stretched letters. The phrase rules match
 * the normalised forms, never the raw text.
 *
 * Hand-written rather than a library: the folding has to be script-aware per word (a Latin "p"
 * inside a Russian word is "р", inside an English word it stays "p"), which confusable-skeleton
 * libraries do not do, and the whole step must stay pure, synchronous and dependency-free.
 */

export interface NormalizedText {
  /** The message exactly as received. */
  raw: string;
  /** The fully normalised text (single letters joined, 3+ repeated letters squeezed to one). */
  text: string;
  /**
   * Every form the rules should see, `text` first. Joining spaced letters and squeezing repeats
   * can also destroy a real phrase ("а я с собой…" joins "а я с"; "killll" squeezes to "kil"), so
   * the forms without those steps are kept when they differ.
   */
  forms: readonly string[];
  /**
   * Runs of letters that were spaced apart evenly, joined without any gap ("i w a n t t o d i e" →
   * "iwanttodie"): word boundaries inside them cannot be recovered, so they are matched as a whole.
   */
  spacedRuns: readonly string[];
}

// Unicode category Cf (format characters): zero-width space/joiners, word joiner, BOM, soft
// hyphen, bidi marks. Invisible in a chat, so they only ever serve to split a word.
const FORMAT_CHARS = /\p{Cf}/gu;
const APOSTROPHES = /[\u2018\u2019\u201B\u02BC\u02B9\u0060\u00B4\u2032]/g;

/** Latin letters (and digits) that look like a Cyrillic letter, for words that are mostly Cyrillic. */
const TO_CYRILLIC: Readonly<Record<string, string>> = {
  a: 'а', b: 'в', c: 'с', e: 'е', h: 'н', k: 'к', m: 'м', o: 'о', p: 'р', t: 'т', x: 'х', y: 'у',
  u: 'и', n: 'п', r: 'г', i: 'и',
  '0': 'о', '1': 'и', '3': 'з', '4': 'ч', '6': 'б',
};

/** Cyrillic letters (and digits, leetspeak) that look like a Latin letter, for words that are mostly Latin. */
const TO_LATIN: Readonly<Record<string, string>> = {
  а: 'a', в: 'b', с: 'c', е: 'e', н: 'h', к: 'k', м: 'm', о: 'o', р: 'p', т: 't', х: 'x', у: 'y',
  і: 'i', ј: 'j', ѕ: 's', ԁ: 'd', ӏ: 'l', г: 'r', п: 'n', и: 'u',
  '0': 'o', '1': 'i', '3': 'e', '4': 'a', '5': 's', '7': 't', '8': 'b', '@': 'a', $: 's',
};

/** Greek lookalikes are folded to Latin first and then treated like any other Latin letter. */
const GREEK_TO_LATIN: Readonly<Record<string, string>> = {
  α: 'a', ο: 'o', ε: 'e', ι: 'i', κ: 'k', ν: 'v', ρ: 'p', τ: 't', υ: 'u', χ: 'x', β: 'b', μ: 'm',
};

/** Small capitals ("ᴋɪʟʟ ᴍʏsᴇʟғ"), which NFKC leaves alone. */
const SMALL_CAPITALS: Readonly<Record<string, string>> = {
  ᴀ: 'a', ʙ: 'b', ᴄ: 'c', ᴅ: 'd', ᴇ: 'e', ғ: 'f', ɢ: 'g', ʜ: 'h', ɪ: 'i', ᴊ: 'j', ᴋ: 'k', ʟ: 'l', ᴍ: 'm',
  ɴ: 'n', ᴏ: 'o', ᴘ: 'p', ǫ: 'q', ʀ: 'r', ꜱ: 's', ᴛ: 't', ᴜ: 'u', ᴠ: 'v', ᴡ: 'w', ʏ: 'y', ᴢ: 'z',
};

const LATIN = /\p{Script=Latin}/u;
const CYRILLIC = /\p{Script=Cyrillic}/u;
const WORD = /[\p{L}\p{N}@$]+/gu;
const HAS_LETTER = /\p{L}/u;
// A digit right after a letter ("k1ll", "d13", "у6ить") marks leetspeak; "20mg" or "9этажа" is a number.
const LEET_DIGIT = /\p{L}[0-9@$]/u;

type Script = 'latin' | 'cyrillic';

function dominantScript(text: string): Script {
  let latin = 0;
  let cyrillic = 0;
  for (const ch of text) {
    if (LATIN.test(ch)) latin++;
    else if (CYRILLIC.test(ch)) cyrillic++;
  }
  return cyrillic > latin ? 'cyrillic' : 'latin';
}

/** Decides which alphabet a mixed word was meant in: letters with no lookalike decide, then the majority. */
function wordScript(word: string, fallback: Script): Script {
  let latin = 0;
  let cyrillic = 0;
  let latinOnly = 0;
  let cyrillicOnly = 0;
  for (const ch of word) {
    if (LATIN.test(ch)) {
      latin++;
      if (!(ch in TO_CYRILLIC)) latinOnly++;
    } else if (CYRILLIC.test(ch)) {
      cyrillic++;
      if (!(ch in TO_LATIN)) cyrillicOnly++;
    }
  }
  if (latinOnly > 0 && cyrillicOnly === 0) return 'latin';
  if (cyrillicOnly > 0 && latinOnly === 0) return 'cyrillic';
  if (latin !== cyrillic) return latin > cyrillic ? 'latin' : 'cyrillic';
  return fallback;
}

function foldWord(word: string, fallback: Script): string {
  const mixed = LATIN.test(word) && CYRILLIC.test(word);
  const leet = HAS_LETTER.test(word) && LEET_DIGIT.test(word);
  if (!mixed && !leet) return word;
  const script = wordScript(word, fallback);
  const table = script === 'latin' ? TO_LATIN : TO_CYRILLIC;
  let out = '';
  for (const ch of word) {
    const isOther = script === 'latin' ? CYRILLIC.test(ch) : LATIN.test(ch);
    const isDigit = /[0-9@$]/.test(ch);
    out += (isOther || (leet && isDigit)) && table[ch] !== undefined ? table[ch] : ch;
  }
  return out;
}

/**
 * Joins runs of three or more single letters ("s u i c i d e", "у б и т ь  с е б я"). Within one
 * run the narrowest gap separates letters and any wider gap separates words.
 */
function joinSpacedLetters(text: string): string {
  return text.replace(/(?<![\p{L}\p{N}])\p{L}(?:[ \t]+\p{L}(?![\p{L}\p{N}])){2,}/gu, (run) => {
    const gaps = run.match(/[ \t]+/g) ?? [];
    const narrowest = Math.min(...gaps.map((g) => g.length));
    return run.replace(/[ \t]+/g, (gap) => (gap.length > narrowest ? ' ' : ''));
  });
}

/** The letters of each evenly spaced run ("s u i c i d e"), joined without gaps. */
function spacedRuns(text: string): string[] {
  const runs: string[] = [];
  for (const m of text.matchAll(/(?<![\p{L}\p{N}])\p{L}(?:[ \t]+\p{L}(?![\p{L}\p{N}])){3,}/gu)) runs.push(m[0].replace(/[ \t]+/g, ''));
  return runs;
}

function foldWords(text: string): string {
  const fallback = dominantScript(text);
  return text.replace(WORD, (word) => foldWord(word, fallback));
}

/**
 * Common misspellings and chat spellings of the words the rules rely on: people in distress type
 * fast, on phones, without checking. Only misspellings and chat forms are rewritten (plus "wont"/"cant",
 * which in a chat nearly always mean "won't"/"can't").
 */
const SPELLING: Readonly<Record<string, string>> = {
  kil: 'kill', kiled: 'killed', kiling: 'killing', myslef: 'myself', mysefl: 'myself', myslf: 'myself', mysef: 'myself', mself: 'myself', myseld: 'myself', mysel: 'myself', meself: 'myself',
  suicde: 'suicide', sucide: 'suicide', suiside: 'suicide', suacide: 'suicide', sucidal: 'suicidal', suicdal: 'suicidal', suisidal: 'suicidal', suicidel: 'suicidal',
  thinkin: 'thinking', feelin: 'feeling', goin: 'going', tryin: 'trying', cuttin: 'cutting', killin: 'killing', dyin: 'dying', livin: 'living', nothin: 'nothing',
  agian: 'again', agin: 'again', wud: 'would', wuld: 'would', woud: 'would', cud: 'could', shud: 'should', wont: "won't", dont: "don't", doesnt: "doesn't", didnt: "didn't", cant: "can't", wouldnt: "wouldn't", im: "i'm", ive: "i've", u: 'you', ur: 'your', tmrw: 'tomorrow', tmr: 'tomorrow', tomoro: 'tomorrow', '2moro': 'tomorrow', '2morrow': 'tomorrow', b4: 'before',
  tn: 'tonight', tnite: 'tonight', '2nite': 'tonight',
  ded: 'dead', lfe: 'life', wat: 'what', urself: 'yourself', hurted: 'hurt', nite: 'night', anymroe: 'anymore', anymoe: 'anymore', tierd: 'tired',
  isnt: "isn't", wasnt: "wasn't", werent: "weren't", arent: "aren't", couldnt: "couldn't", shouldnt: "shouldn't", havent: "haven't", hasnt: "hasn't", aint: "ain't",
  every1: 'everyone', some1: 'someone', no1: 'no one', any1: 'anyone', mny: 'many', pils: 'pills', pillz: 'pills', wana: 'wanna', wnna: 'wanna', wanan: 'wanna', dieing: 'dying', lyf: 'life', lief: 'life', lifee: 'life',
  хачу: 'хочу', хочю: 'хочу', хочица: 'хочется', хочеться: 'хочется', хочиться: 'хочется', хочеца: 'хочется', хочетса: 'хочется',
  умиреть: 'умереть', умерть: 'умереть', умеоеть: 'умереть', здохнуть: 'сдохнуть', здохну: 'сдохну',
  сибя: 'себя', сабой: 'собой', собою: 'собой', сабою: 'собой',
  лутше: 'лучше', лудше: 'лучше', лучшэ: 'лучше', лучшн: 'лучше',
  праснуться: 'проснуться', праснусь: 'проснусь', прасыпаться: 'просыпаться', проснутся: 'проснуться', просыпатся: 'просыпаться',
  покончть: 'покончить', пакончить: 'покончить', покончеть: 'покончить', пакончу: 'покончу', паканчиваю: 'покончу',
  выпилится: 'выпилиться', выпелиться: 'выпилиться', выпелюсь: 'выпилюсь', убится: 'убиться', повеситса: 'повеситься', повесица: 'повеситься',
  нинужна: 'не нужна', нинужен: 'не нужен', ненужна: 'не нужна', ненужен: 'не нужен', ниможу: 'не могу', немогу: 'не могу', нехочу: 'не хочу', нехочется: 'не хочется', нехочеться: 'не хочется', нехотелось: 'не хотелось', нехочю: 'не хочу', нехачу: 'не хочу',
  незачто: 'не за что', парезала: 'порезала', парезалась: 'порезалась', парезал: 'порезал', режю: 'режу', суецид: 'суицид', суицит: 'суицид', сюицид: 'суицид', самоубиство: 'самоубийство', самоубийсво: 'самоубийство',
  // Russian typed in Latin letters ("hochu umeret"): only the key words, so the Russian rules see them.
  hochu: 'хочу', hochetsya: 'хочется', hochetsa: 'хочется', umeret: 'умереть', umret: 'умереть', umru: 'умру', sdohnut: 'сдохнуть', pokonchit: 'покончить', pokonchu: 'покончу',
  soboy: 'собой', soboi: 'собой', ubit: 'убить', ubyu: 'убью', sebya: 'себя', sebia: 'себя', zhit: 'жить', jit: 'жить', povesitsya: 'повеситься', poveshus: 'повешусь', vypilitsya: 'выпилиться', ne: 'не',
  скорей: 'скорее', поскорей: 'поскорее', навечно: 'навсегда',
  умерет: 'умереть', умирет: 'умереть', убю: 'убью', самоубийсто: 'самоубийство', суицыд: 'суицид', сдохнут: 'сдохнуть', покончю: 'покончу', павешусь: 'повешусь', повзшусь: 'повешусь',
  б: 'бы', скок: 'сколько', скока: 'сколько', чтоб: 'чтобы', щас: 'сейчас', ваще: 'вообще', тока: 'только', пжл: 'пожалуйста',
};

function fixSpelling(text: string): string {
  return text
    .replace(/[\p{L}\p{N}]+/gu, (word) => SPELLING[word] ?? word)
    .replace(/([жш])ы/g, '$1и')
    .replace(/ь{2,}/g, 'ь')
    .replace(/w\/o\b/g, 'without')
    .replace(/(?<=\b(?:want|wanna|going|need|have|ready|trying|about|like|love|hate|has|how) )2(?= (?:die|live|be|end|kill|sleep|wake|disappear|hurt|cut|go|do|stop|exist)\b)/g, 'to');
}

/**
 * Key words that obfuscation splits with stray spaces ("хоч у ум ереть", "ki ll my self"). Only
 * fragments that glue into one of these words are joined, so ordinary short words stay apart.
 */
const SPLIT_KEY_WORDS: ReadonlySet<string> = new Set([
  'хочу', 'хочется', 'умереть', 'умру', 'убить', 'убью', 'себя', 'покончить', 'покончу', 'собой', 'повешусь', 'повеситься',
  'сдохнуть', 'сдохну', 'жить', 'выпилиться', 'выпилюсь', 'суицид', 'самоубийство', 'таблеток', 'вены', 'порезать', 'режу',
  'kill', 'killing', 'myself', 'suicide', 'suicidal', 'die', 'dying', 'want', 'wanna', 'end', 'life', 'hang', 'overdose',
  'unalive', 'hurt', 'cut', 'cutting', 'dead',
]);

/** Glues runs of two or three fragments that together spell a key word; null when nothing changes. */
function rejoinSplitWords(text: string): string | null {
  const words = text.split(' ');
  const out: string[] = [];
  let changed = false;
  for (let i = 0; i < words.length; i++) {
    const two = i + 1 < words.length ? words[i]! + words[i + 1]! : '';
    const three = i + 2 < words.length ? two + words[i + 2]! : '';
    if (three && SPLIT_KEY_WORDS.has(three) && !SPLIT_KEY_WORDS.has(words[i]!)) {
      out.push(three);
      i += 2;
      changed = true;
    } else if (two && SPLIT_KEY_WORDS.has(two) && !SPLIT_KEY_WORDS.has(words[i]!) && !SPLIT_KEY_WORDS.has(words[i + 1]!)) {
      out.push(two);
      i += 1;
      changed = true;
    } else out.push(words[i]!);
  }
  return changed ? out.join(' ') : null;
}

/**
 * Formal negations and "I am" in the contracted forms people type in a chat ("I do not want to be
 * alive" → "I don't want to be alive"). Kept as an extra form, never a replacement, so a rule
 * written for "had not been born" still sees the original.
 */
function contractEnglish(text: string): string {
  return text
    .replace(/\b(would|do|does|did|could|should|is|was|were|are|have|has|had|need) not\b/g, "$1n't")
    .replace(/\bwill not\b/g, "won't")
    .replace(/\bcan ?not\b/g, "can't")
    .replace(/\bi am\b/g, "i'm");
}

function collapseWhitespace(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

/**
 * Normalises one message for matching: NFKC; format characters (Cf) removed; typographic
 * apostrophes unified; lower case; ё → е; Latin/Cyrillic homoglyphs and leetspeak folded inside
 * mixed words toward the word's own script; spaced-apart letters joined; 3+ repeated letters
 * squeezed; whitespace (including the "\n" between merged messages) collapsed to one space.
 * Pure; never throws; keeps the raw text.
 */
export function normalizeText(raw: string): NormalizedText {
  let base = String(raw ?? '')
    .normalize('NFKC')
    .replace(FORMAT_CHARS, '')
    .replace(APOSTROPHES, "'")
    // A capital I or a pipe right after a small letter stands for "l" ("kiII", "ki||"); "!" between letters for "i".
    .replace(/(?<=\p{Ll})[I|]+/gu, (run) => 'l'.repeat(run.length))
    .replace(/(?<=\p{L})!(?=\p{L})/gu, 'i')
    .toLowerCase()
    .replace(/[ᴀʙᴄᴅᴇғɢʜɪᴊᴋʟᴍɴᴏᴘǫʀꜱᴛᴜᴠᴡʏᴢ]/gu, (ch) => SMALL_CAPITALS[ch] ?? ch)
    .replace(/ё/g, 'е')
    .replace(/[αοεικνρτυχβμ]/g, (ch) => GREEK_TO_LATIN[ch] ?? ch);
  base = base
    .replace(/[\t\r\f\v\u00A0\u2000-\u200A\u202F\u205F\u3000]/g, ' ')
    // Letters strung with separators ("w-a-n-t", "у.б.и.т.ь") are joined; an underscore joins words.
    .replace(/(?<![\p{L}\p{N}])\p{L}(?:[-._*·•~+]\p{L}(?![\p{L}\p{N}]))+/gu, (run) => run.replace(/[-._*·•~+]/g, ''))
    .replace(/_/g, ' ')
    // Emoji or stars stuck inside a word ("у😭мереть", "у*бить") only hide it.
    .replace(/(?<=\p{L})(?:\p{Extended_Pictographic}|[*·•])+(?=\p{L})/gu, '');

  const variants = new Set<string>();
  const joined = joinSpacedLetters(base);
  for (const spacing of joined === base ? [base] : [joined, base]) {
    // Spelling before folding too: "every1" is a chat spelling, not leetspeak for "everyi".
    const folded = fixSpelling(foldWords(fixSpelling(spacing)));
    const squeezedToOne = folded.replace(/(\p{L})\1{2,}/gu, '$1');
    variants.add(collapseWhitespace(squeezedToOne));
    if (squeezedToOne !== folded) variants.add(collapseWhitespace(folded.replace(/(\p{L})\1{2,}/gu, '$1$1')));
  }
  for (const form of [...variants]) {
    const rejoined = rejoinSplitWords(form);
    if (rejoined !== null) variants.add(rejoined);
  }
  for (const form of [...variants]) variants.add(contractEnglish(form));
  const forms = [...variants];
  const runs = spacedRuns(base).map((run) => foldWords(run).replace(/(\p{L})\1{2,}/gu, '$1'));
  return { raw: String(raw ?? ''), text: forms[0] ?? '', forms, spacedRuns: runs };
}
