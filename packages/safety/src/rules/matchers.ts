/**
 * The two kinds of matcher the phrase rules are written in: a regular expression over the
 * normalised text, and "all of these words within N words of each other, in any order" (for
 * Russian, where word order is free: "жить не хочу", "с собой покончить хочу").
 */

export interface Span {
  start: number;
  end: number;
}

interface Token {
  text: string;
  start: number;
  end: number;
}

/** One normalised form of a message, tokenised once for all rules. */
export interface Doc {
  text: string;
  tokens: readonly Token[];
}

export type Matcher = (doc: Doc) => Span[];

export type RiskCategory =
  | 'direct'
  | 'passive_death_wish'
  | 'preparation'
  | 'method_seeking'
  | 'burdensomeness'
  | 'euphemism_slang'
  | 'self_harm'
  | 'goodbye'
  | 'hopelessness';

export interface Rule {
  /** Stable name, "<lang>.<category>.<what>"; reported to tests, never the text. */
  name: string;
  category: RiskCategory;
  level: 'high' | 'low';
  match: Matcher;
  /** The hit is dropped when this matches the text right after it (anchored with ^ by the author). */
  unlessFollowedBy?: RegExp;
  /** The hit is dropped when this matches within the 60 characters around it (an ordinary context). */
  unlessContext?: RegExp;
  /**
   * Hyperbole that people also use as a joke ("I could sleep forever", "kms lol jk"): the hit is
   * dropped when the message says it is a joke ("jk", "шучу") and does not deny that ("не шучу").
   */
  hyperbole?: boolean;
}

export interface Idiom {
  name: string;
  match: Matcher;
}

const TOKEN = /[\p{L}\p{N}']+/gu;

export function toDoc(text: string): Doc {
  const tokens: Token[] = [];
  for (const m of text.matchAll(TOKEN)) tokens.push({ text: m[0], start: m.index, end: m.index + m[0].length });
  return { text, tokens };
}

// `\b` in JavaScript knows only ASCII word characters, so it never fires inside Cyrillic words.
const WORD_START = String.raw`(?<![\p{L}\p{N}])`;
const UNICODE_BOUNDARY = String.raw`(?:(?<=[\p{L}\p{N}])(?![\p{L}\p{N}])|(?<![\p{L}\p{N}])(?=[\p{L}\p{N}]))`;

/**
 * Compiles a rule pattern: `\b` is a Unicode word boundary; "ё" is written as "е" because
 * normalisation folds it; always global + unicode.
 */
export function compile(source: string): RegExp {
  // A `\b` that opens a pattern or an alternative always stands before a word, so the cheaper
  // one-sided test is enough there (and lets the engine skip ahead faster).
  const withBoundaries = source
    .replace(/(^|\(\?:|\(|\|)\\b/g, `$1${WORD_START}`)
    .replace(/\\b/g, UNICODE_BOUNDARY);
  return new RegExp(withBoundaries.replace(/ё/g, 'е'), 'gu');
}

/** A regular expression over the normalised text. `\b` means a Unicode word boundary. */
export function rx(source: string): Matcher {
  const re = compile(source);
  return (doc) => {
    // Most rules match nothing in most messages: one test is much cheaper than an iterator.
    re.lastIndex = 0;
    const any = re.test(doc.text);
    // matchAll starts from lastIndex, which test() has moved past the first match.
    re.lastIndex = 0;
    if (!any) return [];
    const spans: Span[] = [];
    for (const m of doc.text.matchAll(re)) {
      if (m[0].length > 0) spans.push({ start: m.index, end: m.index + m[0].length });
    }
    return spans;
  };
}

/**
 * A word or run of words for `near`. Each space-separated piece matches one token from its start
 * (a stem: "поконч" matches "покончу", "покончить"); end a piece with `$` to match a whole word.
 */
export type Term = string | { words: string; notAfter: string };

interface CompiledTerm {
  /** All one-word alternatives as one expression (one test per word). */
  single?: RegExp;
  /** Alternatives of two or more words, each a run of per-word expressions. */
  runs: RegExp[][];
  notAfter?: RegExp;
}

function compileTerm(term: Term): CompiledTerm {
  const words = typeof term === 'string' ? term : term.words;
  // Alternatives are separated by "|" at the top level; the stems themselves use no groups.
  const alternatives = words.replace(/ё/g, 'е').split('|').map((alt) => alt.trim().split(/\s+/));
  const singles = alternatives.filter((a) => a.length === 1).map((a) => a[0]!);
  return {
    single: singles.length > 0 ? new RegExp(`^(?:${singles.join('|')})`, 'u') : undefined,
    runs: alternatives.filter((a) => a.length > 1).map((a) => a.map((p) => new RegExp(`^(?:${p})`, 'u'))),
    notAfter: typeof term === 'string' ? undefined : new RegExp(`^(?:${term.notAfter})$`, 'u'),
  };
}

function occurrences(term: CompiledTerm, tokens: readonly Token[]): Array<[number, number]> {
  const found: Array<[number, number]> = [];
  for (let i = 0; i < tokens.length && found.length < 16; i++) {
    if (term.notAfter && i > 0 && term.notAfter.test(tokens[i - 1]!.text)) continue;
    const run = term.runs.find((pieces) => i + pieces.length <= tokens.length && pieces.every((p, k) => p.test(tokens[i + k]!.text)));
    if (run) found.push([i, i + run.length]);
    else if (term.single?.test(tokens[i]!.text)) found.push([i, i + 1]);
  }
  return found;
}

/**
 * All terms present, in any order, not overlapping, with at most `maxGap` other words among them.
 * The span runs from the first to the last matched word.
 */
export function near(terms: readonly Term[], maxGap: number): Matcher {
  const compiled = terms.map(compileTerm);
  return (doc) => {
    // Stop at the first term that is absent: most messages lack most terms.
    const occ: Array<Array<[number, number]>> = [];
    for (const term of compiled) {
      const found = occurrences(term, doc.tokens);
      if (found.length === 0) return [];
      occ.push(found);
    }
    const spans: Span[] = [];
    const chosen: Array<[number, number]> = [];
    const visit = (k: number): void => {
      if (spans.length > 0) return;
      if (k === occ.length) {
        const first = Math.min(...chosen.map((c) => c[0]));
        const last = Math.max(...chosen.map((c) => c[1]));
        const used = chosen.reduce((n, c) => n + c[1] - c[0], 0);
        if (last - first - used <= maxGap) spans.push({ start: doc.tokens[first]!.start, end: doc.tokens[last - 1]!.end });
        return;
      }
      for (const o of occ[k]!) {
        if (chosen.some((c) => o[0] < c[1] && c[0] < o[1])) continue;
        chosen.push(o);
        visit(k + 1);
        chosen.pop();
      }
    };
    visit(0);
    return spans;
  };
}
