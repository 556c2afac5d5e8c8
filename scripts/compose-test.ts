/**
 * The compose test: the project's Dockerfile and docker-compose.yml, run by a real Docker engine the
 * way an operator runs them, with the Telegram emulator and a mock Gemini API as extra services
 * (scripts/docker/compose.test.yml). Run it with `bash scripts/compose-test.sh`, which starts the
 * engine and builds the base images first. Checks, in order:
 *   1. `up --scale worker=3`: every service healthy; idle worker RSS measured
 *   2. a message makes the round trip (ingress → queue → worker → mock model → emulator)
 *   3. `stop` with turns in flight: they are all answered before it returns; every app exits 0 and
 *      logs its drain; the apps' logs are JSON lines only
 *   4. `up` again: nothing lost or repeated
 *   5. scaling 3 → 5 → 2 under load: nothing lost or repeated
 *   6. `down -v` removes containers, volumes and the network
 * Prints `compose: N passed, N failed` last; exits 1 if anything failed.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { encodeAction } from '@inner-talk/conversation';
import { telegramUserClient, type TelegramUserClient } from '@inner-talk/mocks';
import { freePort } from '@inner-talk/testkit';

const ROOT = path.resolve(__dirname, '..');
const DOCKER = process.env.INNER_TALK_DOCKER ?? 'docker';
const PROJECT = 'inner-talk-compose-test';
const BOT_TOKEN = '100002:compose-test-token';
const APP_SERVICES = ['ingress', 'worker', 'metrics'];
const SERVICES = ['redis', 'mongo', 'telegram', 'llm', ...APP_SERVICES];
const PEOPLE = 6;
const MAX_IDLE_WORKER_RSS_MB = 120;

interface Result {
  code: number;
  out: string;
}

function run(command: string, args: string[], options: { env?: NodeJS.ProcessEnv; quiet?: boolean } = {}): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: ROOT, env: options.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? 1, out }));
  });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const seconds = (since: number) => `${((Date.now() - since) / 1000).toFixed(1)} s`;

let passed = 0;
let failed = 0;
function check(name: string, ok: boolean, detail = ''): boolean {
  if (ok) passed += 1;
  else failed += 1;
  process.stdout.write(`${ok ? 'PASS' : 'FAIL'} ${name}${detail ? ` (${detail})` : ''}\n`);
  return ok;
}

async function main(): Promise<void> {
  const started = Date.now();
  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'inner-talk-compose-'));
  const envFile = path.join(workDir, 'compose.env');
  const telegramPort = await freePort();
  // Interpolation values only (compose --env-file): the repository's own .env is never read.
  fs.writeFileSync(
    envFile,
    [
      `REDIS_PASSWORD=${randomBytes(16).toString('hex')}`,
      `MONGO_PASSWORD=${randomBytes(16).toString('hex')}`,
      `GRAFANA_ADMIN_PASSWORD=${randomBytes(16).toString('hex')}`,
      `COMPOSE_TEST_TELEGRAM_PORT=${telegramPort}`,
      `COMPOSE_TEST_BOT_TOKEN=${BOT_TOKEN}`,
      `COMPOSE_TEST_ENCRYPTION_KEYS=k1:${randomBytes(32).toString('base64')}`,
    ].join('\n') + '\n',
    { mode: 0o600 },
  );
  const composeArgs = ['compose', '-p', PROJECT, '--env-file', envFile, '-f', 'docker-compose.yml', '-f', 'scripts/docker/compose.test.yml'];
  const compose = (...args: string[]) => run(DOCKER, [...composeArgs, ...args]);
  const up = (workers: number) => compose('up', '-d', '--no-build', '--wait', '--no-recreate', '--scale', `worker=${workers}`, ...SERVICES);

  await compose('down', '-v', '--remove-orphans');

  // The project's Dockerfile as it is: the production image, and its build stage for the mocks.
  let t: number;
  for (const [tag, target] of [
    ['inner-talk:local', []],
    ['inner-talk:build', ['--target', 'build']],
  ] as const) {
    t = Date.now();
    const built = await run(DOCKER, ['build', '-q', '--network', 'host', ...target, '-t', tag, '.']);
    if (!check(`docker build ${tag}`, built.code === 0, seconds(t))) throw new Error(built.out.slice(-3000));
  }
  const size = await run(DOCKER, ['image', 'inspect', '-f', '{{.Size}}', 'inner-talk:local']);
  const sizeMb = Number(size.out.trim()) / 1e6;
  check('image inner-talk:local at most 250 MB', sizeMb <= 250, `${sizeMb.toFixed(0)} MB`);

  try {
    // 1. Up with three workers, everything healthy.
    t = Date.now();
    const first = await up(3);
    check('up --scale worker=3 --wait', first.code === 0, seconds(t));
    if (first.code !== 0) throw new Error(first.out.slice(-3000));
    const ps = await compose('ps', '--format', '{{.Service}} {{.State}} {{.Health}}');
    const rows = ps.out.trim().split('\n').filter(Boolean);
    const unhealthy = rows.filter((row) => !/ running healthy$/.test(row));
    check('all 9 containers running and healthy', rows.length === 9 && unhealthy.length === 0, unhealthy.join('; ') || `${rows.length} containers`);

    await sleep(5_000);
    const rss = await workerRssMb(compose);
    check(`idle worker RSS at most ${MAX_IDLE_WORKER_RSS_MB} MB`, rss.length === 3 && rss.every((mb) => mb <= MAX_IDLE_WORKER_RSS_MB), rss.map((mb) => `${mb.toFixed(0)} MB`).join(', '));

    // 2. Round trip: onboarding and a first message, for each person.
    const apiUrl = `http://127.0.0.1:${telegramPort}`;
    const people = Array.from({ length: PEOPLE }, (_, i) => telegramUserClient(apiUrl, BOT_TOKEN, { userId: 5001 + i, firstName: `P${i}`, languageCode: 'en' }));
    t = Date.now();
    await Promise.all(people.map(onboard));
    const firstReplies = await Promise.all(people.map(async (p) => (await p.sendText('Hello, I had a rough day.'), p.waitForBotMessages(1, 30_000))));
    check('a message makes the round trip (every person answered)', firstReplies.every((r) => r.length === 1 && r[0]!.text.length > 0), seconds(t));
    const expected = new Map<TelegramUserClient, number>(await Promise.all(people.map(async (p) => [p, (await p.botMessages()).length] as const)));

    // 3. Stop with turns in flight (the mock model takes 1.5 s per reply).
    await Promise.all(people.map((p) => p.sendText('One more thing before you go.')));
    for (const p of people) expected.set(p, expected.get(p)! + 1);
    await sleep(700);
    const unanswered = (await Promise.all(people.map(async (p) => (await p.botMessages()).length))).filter((n, i) => n < expected.get(people[i]!)!).length;
    t = Date.now();
    // Everything but the mocks, which stand for Telegram and the model provider outside.
    const stop = await compose('stop', ...APP_SERVICES, 'redis', 'mongo');
    check('stop returns', stop.code === 0, seconds(t));
    const counts = await Promise.all(people.map(async (p) => (await p.botMessages()).length));
    check(
      'turns in flight at stop are answered before it returns',
      unanswered > 0 && people.every((p, i) => counts[i] === expected.get(p)),
      `${unanswered} of ${PEOPLE} unanswered when stop was issued`,
    );
    const exits = await compose('ps', '-a', '--format', '{{.Name}} {{.ExitCode}}', ...APP_SERVICES);
    const exitRows = exits.out.trim().split('\n').filter(Boolean);
    check('every app container exited 0', exitRows.length === 5 && exitRows.every((row) => row.endsWith(' 0')), exitRows.join('; '));
    const logs = (await compose('logs', '--no-color', '--no-log-prefix', ...APP_SERVICES)).out;
    const notJson = logs.split('\n').filter((line) => line.trim() !== '' && !isJsonObject(line));
    check('app logs are JSON lines only', notJson.length === 0, notJson.slice(0, 2).join(' | '));
    const drained = (logs.match(/"msg":"worker stopped"/g) ?? []).length;
    const drainedTrue = (logs.match(/"drained":true,"msg":"worker stopped"/g) ?? []).length;
    check('every app logs its drain', drainedTrue === 3 && logs.includes('"msg":"ingress stopped"') && logs.includes('"msg":"metrics stopped"'), `workers stopped ${drained}, drained ${drainedTrue}`);

    // 4. Up again: nothing lost or repeated.
    t = Date.now();
    const again = await up(3);
    check('up again', again.code === 0, seconds(t));
    await Promise.all(people.map((p) => p.sendText('I am back.')));
    for (const p of people) expected.set(p, expected.get(p)! + 1);
    check('after up again nothing is lost or repeated', await settles(people, expected, 60_000));

    // 5. Scale 3 → 5 → 2 while people keep writing.
    t = Date.now();
    let writing = true;
    const load = (async () => {
      let round = 0;
      while (writing) {
        round += 1;
        await Promise.all(people.map((p) => p.sendText(`Message ${round} while the workers change.`)));
        for (const p of people) expected.set(p, expected.get(p)! + 1);
        await sleep(700);
      }
    })();
    const toFive = await up(5);
    await sleep(4_000);
    const toTwo = await up(2);
    await sleep(2_000);
    writing = false;
    await load;
    check('scale 3 → 5 → 2 under load', toFive.code === 0 && toTwo.code === 0, seconds(t));
    const workers = (await compose('ps', '--format', '{{.Service}}', 'worker')).out.trim().split('\n').filter(Boolean).length;
    check('two workers left', workers === 2, `${workers}`);
    check('scaling loses and repeats nothing', await settles(people, expected, 120_000), `${[...expected.values()].reduce((a, b) => a + b, 0)} bot messages expected`);
  } catch (error) {
    check('no unexpected error', false, error instanceof Error ? error.message : String(error));
  } finally {
    // 6. Down with volumes: nothing of the project is left.
    const down = await compose('down', '-v', '--remove-orphans');
    const label = `label=com.docker.compose.project=${PROJECT}`;
    const left = await Promise.all([
      run(DOCKER, ['ps', '-aq', '--filter', label]),
      run(DOCKER, ['volume', 'ls', '-q', '--filter', label]),
      run(DOCKER, ['network', 'ls', '-q', '--filter', label]),
    ]);
    check('down -v removes containers, volumes and the network', down.code === 0 && left.every((r) => r.out.trim() === ''), left.map((r) => r.out.trim().split('\n').filter(Boolean).length).join('/'));
    fs.rmSync(workDir, { recursive: true, force: true });
    process.stdout.write(`compose test took ${seconds(started)}\n`);
    process.stdout.write(`compose: ${passed} passed, ${failed} failed\n`);
    process.exitCode = failed === 0 ? 0 : 1;
  }
}

function isJsonObject(line: string): boolean {
  try {
    return typeof JSON.parse(line) === 'object';
  } catch {
    return false;
  }
}

/** The person's first minute: /start, language, 18+, consent; one bot message answers each. */
async function onboard(person: TelegramUserClient): Promise<void> {
  await person.sendCommand('/start');
  await person.waitForBotMessages(1, 30_000);
  for (const action of [encodeAction({ kind: 'language', locale: 'en' }), encodeAction({ kind: 'adult', confirmed: true }), encodeAction({ kind: 'consent', given: true })]) {
    await person.pressButton(action);
    await person.waitForBotMessages(1, 30_000);
  }
}

/**
 * Waits until every person has exactly the expected number of bot messages, then watches 3 s more
 * for repeats. False if some are missing at the deadline or any person has more.
 */
async function settles(people: TelegramUserClient[], expected: Map<TelegramUserClient, number>, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  const counts = async () => Promise.all(people.map(async (p) => (await p.botMessages()).length));
  for (;;) {
    const now = await counts();
    if (people.some((p, i) => now[i]! > expected.get(p)!)) return report(people, expected, now);
    if (people.every((p, i) => now[i] === expected.get(p))) break;
    if (Date.now() > deadline) return report(people, expected, now);
    await sleep(500);
  }
  await sleep(3_000);
  const later = await counts();
  return people.every((p, i) => later[i] === expected.get(p)) || report(people, expected, later);
}

function report(people: TelegramUserClient[], expected: Map<TelegramUserClient, number>, counts: number[]): false {
  process.stdout.write(`  bot messages per person: ${counts.join(',')}; expected ${people.map((p) => expected.get(p)).join(',')}\n`);
  return false;
}

/** Resident memory of the node process in each worker container, in MB. */
async function workerRssMb(compose: (...args: string[]) => Promise<Result>): Promise<number[]> {
  const ids = (await compose('ps', '-q', 'worker')).out.trim().split('\n').filter(Boolean);
  return Promise.all(
    ids.map(async (id) => {
      // The image has no ps: read /proc of the node process running /app/worker.js.
      const script = 'for p in /proc/[0-9]*; do if tr "\\0" " " < $p/cmdline | grep -q "^node .*/app/worker.js"; then grep VmRSS $p/status; fi; done';
      const out = (await run(DOCKER, ['exec', id, 'sh', '-c', script])).out;
      const kb = Number(/VmRSS:\s+(\d+)/.exec(out)?.[1] ?? NaN);
      return kb / 1024;
    }),
  );
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
