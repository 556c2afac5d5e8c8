/**
 * Command-line flags of the benchmarks: `--name value`, `--name=value`, and for on/off flags
 * `--name` / `--no-name` / `--name=false`. What is generic lives here (reading the arguments,
 * unknown or incomplete flags); what a value means is the benchmark's own `convert`.
 */

/** A flag: the key it sets and its kind (`bool` is on/off; every other kind takes a value). */
export type FlagTable<F, Kind extends string> = Record<string, readonly [keyof F & string, Kind | 'bool']>;

/**
 * Parses `argv` over `defaults`. `convert` turns one value into what its key holds (calling `fail`
 * for a bad one); `fail` prints the problem and exits. Later flags win over earlier ones.
 */
export function parseFlagArgs<F extends object, Kind extends string>(
  argv: readonly string[],
  defaults: F,
  table: FlagTable<F, Kind>,
  convert: (kind: Kind, value: string, flag: string) => unknown,
  fail: (problem: string) => never,
): F {
  const flags = { ...defaults };
  const set = flags as unknown as Record<string, unknown>;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') continue;
    const m = /^--(no-)?([a-z0-9-]+)(?:=(.*))?$/.exec(arg);
    const spec = m ? table[m[2]!] : undefined;
    if (!m || !spec) fail(`unknown argument ${arg}`);
    const [key, kind] = spec;
    const flag = `--${m[2]}`;
    if (kind === 'bool') {
      set[key] = !m[1] && m[3] !== 'false';
      continue;
    }
    if (m[1]) fail(`--no-${m[2]} is only for on/off flags`);
    const value = m[3] ?? argv[++i];
    if (value === undefined) fail(`${flag} needs a value`);
    set[key] = convert(kind as Kind, value, flag);
  }
  return flags;
}

/** A number from a flag value: finite, > 0 (≥ 0 with `allowZero`), whole with `integer`. */
export function numberFlag(value: string, flag: string, fail: (problem: string) => never, options: { integer?: boolean; allowZero?: boolean } = {}): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n < 0 || (n === 0 && !options.allowZero)) fail(`${flag}: ${value} is not a positive number`);
  if (options.integer && !Number.isInteger(n)) fail(`${flag} must be a whole number`);
  return n;
}

/** The usage line of a benchmark's flags. */
export function flagList(table: Record<string, unknown>): string {
  return Object.keys(table)
    .map((f) => `--${f}`)
    .join(' ');
}
