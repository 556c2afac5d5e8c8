/**
 * Operator CLI: `pnpm cli <command>`.
 *
 *   pnpm cli safety classify            one message per line on stdin → one JSON line each:
 *                                       {"level":"none|low|high","sources":[…]}; uses the phrase list,
 *                                       and the model classifier too when LLM_* keys are configured
 *   pnpm cli safety eval [--misses]     runs the offline phrase layer over the crisis corpus
 *                                       (packages/safety/corpus: dev and heldout parts, en and ru);
 *                                       prints per part and language the risk count, recall, ordinary
 *                                       count and false-alarm rate (a part not present is reported as
 *                                       missing), then one JSON line with the same numbers. --misses
 *                                       also prints the misclassified texts of the dev part only; the
 *                                       held-out part only ever shows aggregate numbers
 *   pnpm cli assess score phq9|gad7 A   A = comma-separated answers 0–3 → {"total":…,"band":"…","item9_flag":…}
 *   pnpm cli keys rotate                re-seals every stored sealed value under the current key of
 *                                       DATA_ENCRYPTION_KEYS (DATA_ENCRYPTION_KEY_ID) in MONGO_URL/MONGO_DB;
 *                                       prints the counts as one JSON line; audited as `keys.rotate`
 *
 * Exit codes: 0 ok, 1 rotation left values it could not open, 2 bad usage, input or configuration
 * (with a message on stderr).
 */
import { createInterface } from 'node:readline';
import { InvalidAnswersError, scoreAssessment, type QuestionnaireId } from '@inner-talk/assessments';
import { defaultAdapter, parseGatewayEnv } from '@inner-talk/gateway';
import { ConfigError, parseDataEncryptionEnv, parseEnv, urlWithScheme } from '@inner-talk/config';
import { CORPUS_DIR, CrisisDetector, evaluateCorpusDir, type CorpusReport } from '@inner-talk/safety';
import { connectMongo, recordAudit, rotateKeys } from '@inner-talk/storage';
import { Vault } from '@inner-talk/vault';
import { z } from 'zod';

const USAGE = [
  'usage: pnpm cli safety classify < messages.txt',
  '       pnpm cli safety eval [--misses]',
  '       pnpm cli assess score phq9|gad7 <comma-separated answers 0-3>',
  '       pnpm cli keys rotate',
].join('\n');

function fail(message: string): never {
  console.error(message);
  process.exit(2);
}

/** The model layer only when the operator configured keys; the CLI talks to the first provider directly. */
function modelFromEnv() {
  if (!Object.keys(process.env).some((k) => /^LLM_[A-Z0-9_]+_KEYS$/.test(k) && process.env[k])) return undefined;
  const route = parseGatewayEnv(process.env, 'cli').chain[0];
  const key = route?.keys[0];
  return route && key ? defaultAdapter(route, key) : undefined;
}

async function classify(): Promise<void> {
  const detector = new CrisisDetector({ model: modelFromEnv() });
  const lines = createInterface({ input: process.stdin, crlfDelay: Infinity });
  for await (const line of lines) {
    const result = await detector.assess(line);
    process.stdout.write(`${JSON.stringify({ level: result.level, sources: result.sources })}\n`);
  }
}

const percent = (share: number) => `${(share * 100).toFixed(1)}%`;

function reportLine(r: CorpusReport): string {
  const where = `${r.part.padEnd(7)} ${r.language}`;
  if (!r.present || !r.metrics) return `${where}  missing`;
  const m = r.metrics;
  return `${where}  risk ${m.risk}  recall ${percent(m.recall)}  ordinary ${m.ordinary}  false alarms ${percent(m.falseAlarmRate)}`;
}

/** Offline layer against the corpus; the evaluation itself lives in @inner-talk/safety. */
async function evaluate(flags: string[]): Promise<void> {
  const unknown = flags.filter((f) => f !== '--misses');
  if (unknown.length > 0) fail(`safety eval: unknown option ${unknown[0]}\n${USAGE}`);
  const reports = await evaluateCorpusDir(CORPUS_DIR);
  for (const r of reports) process.stdout.write(`${reportLine(r)}\n`);
  if (flags.includes('--misses')) {
    for (const r of reports.filter((x) => x.part === 'dev')) {
      for (const miss of r.misses ?? []) {
        process.stdout.write(`miss ${r.language} ${miss.label} ${miss.category} (${miss.level}): ${JSON.stringify(miss.text)}\n`);
      }
    }
  }
  const summary: Record<string, Record<string, unknown>> = {};
  for (const r of reports) {
    summary[r.part] ??= {};
    summary[r.part]![r.language] = r.metrics ? { risk: r.metrics.risk, recall: r.metrics.recall, ordinary: r.metrics.ordinary, false_alarm_rate: r.metrics.falseAlarmRate } : null;
  }
  process.stdout.write(`${JSON.stringify(summary)}\n`);
}

function score(id: string | undefined, answers: string | undefined): void {
  if (id !== 'phq9' && id !== 'gad7') fail(`assess score: questionnaire must be phq9 or gad7\n${USAGE}`);
  if (!answers) fail(`assess score: answers are missing\n${USAGE}`);
  const values = answers.split(',').map((a) => (a.trim() === '' ? NaN : Number(a.trim())));
  try {
    const s = scoreAssessment(id as QuestionnaireId, values);
    process.stdout.write(`${JSON.stringify({ total: s.total, band: s.band, item9_flag: s.item9Flag })}\n`);
  } catch (error) {
    if (error instanceof InvalidAnswersError) fail(`assess score: ${error.message}`);
    throw error;
  }
}

const mongoEnv = z.object({ MONGO_URL: urlWithScheme(['mongodb', 'mongodb+srv']), MONGO_DB: z.string().min(1).default('inner_talk') });

/** Moves stored data to the current key; the old key can be dropped once `unreadable` is 0. */
async function rotate(): Promise<void> {
  let config;
  try {
    config = { ...parseEnv('cli', mongoEnv, process.env), encryption: parseDataEncryptionEnv(process.env, 'cli') };
  } catch (error) {
    if (error instanceof ConfigError) fail(error.message);
    throw error;
  }
  const vault = new Vault({ keys: config.encryption.keys, currentKeyId: config.encryption.currentKeyId });
  const mongo = await connectMongo(config.MONGO_URL, config.MONGO_DB);
  try {
    const result = await rotateKeys(mongo.db, vault);
    const { collections: _perCollection, ...totals } = result;
    await recordAudit(mongo.db, { actor: 'operator:cli', action: 'keys.rotate', subject: null, at: new Date(), details: { keyId: config.encryption.currentKeyId, ...totals } });
    process.stdout.write(`${JSON.stringify({ key_id: config.encryption.currentKeyId, ...result })}\n`);
    if (result.unreadable > 0) process.exitCode = 1;
  } finally {
    await mongo.close();
  }
}

async function main(argv: string[]): Promise<void> {
  const [area, command, ...rest] = argv;
  if (area === 'safety' && command === 'classify') return classify();
  if (area === 'safety' && command === 'eval') return evaluate(rest);
  if (area === 'assess' && command === 'score') return score(rest[0], rest[1]);
  if (area === 'keys' && command === 'rotate') return rotate();
  fail(USAGE);
}

main(process.argv.slice(2)).catch((error: unknown) => fail(error instanceof Error ? error.message : String(error)));
