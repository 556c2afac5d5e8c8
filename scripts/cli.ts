/**
 * Operator CLI: `pnpm cli <command>`.
 *
 *   pnpm cli safety classify            one message per line on stdin → one JSON line each:
 *                                       {"level":"none|low|high","sources":[…]}; uses the phrase list,
 *                                       and the model classifier too when LLM_* keys are configured
 *   pnpm cli assess score phq9|gad7 A   A = comma-separated answers 0–3 → {"total":…,"band":"…","item9_flag":…}
 *
 * Exit codes: 0 ok, 2 bad usage or input (with a message on stderr).
 */
import { createInterface } from 'node:readline';
import { InvalidAnswersError, scoreAssessment, type QuestionnaireId } from '@inner-talk/assessments';
import { defaultAdapter, parseGatewayEnv } from '@inner-talk/gateway';
import { CrisisDetector } from '@inner-talk/safety';

const USAGE = 'usage: pnpm cli safety classify < messages.txt\n       pnpm cli assess score phq9|gad7 <comma-separated answers 0-3>';

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

async function main(argv: string[]): Promise<void> {
  const [area, command, ...rest] = argv;
  if (area === 'safety' && command === 'classify') return classify();
  if (area === 'assess' && command === 'score') return score(rest[0], rest[1]);
  fail(USAGE);
}

main(process.argv.slice(2)).catch((error: unknown) => fail(error instanceof Error ? error.message : String(error)));
