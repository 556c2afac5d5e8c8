/**
 * Load benchmark: virtual people in sessions post real-shaped Telegram updates to the webhook of
 * the whole cluster (ingress, W workers and the metrics app as separate processes, real Redis and
 * the MongoDB wire-protocol server), replies go to a fast local Bot API sink, the LLM is the mock
 * server with a log-normal latency. Per step of offered load it reports throughput, end-to-end and
 * overhead (end-to-end − exact LLM time) percentiles, lost/duplicate replies, worker RSS and CPU,
 * and Redis commands per message. In the same run, the baseline (bench/baseline/bot.ts: the same
 * conversation core as one grammY webhook process without the queue) gets the same load, and both
 * are killed mid-load (one worker / the bot process, SIGKILL, restarted) to count what they lose.
 *
 *   pnpm bench:load [--workers 2] [--rates 20,40] [--step 20] [--no-baseline] [--no-kill] …
 *   pnpm bench:load --scaling [--scaling-workers 1,2,4] [--scaling-rates 10,20,40,80,160,320,500]
 *
 * Flags: FLAGS below; the method and results: docs/performance.md. The last line of output is one JSON object; every line of
 * results is also appended to bench/results/load-<time>.jsonl.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { clearClusterData, startLocalCluster, type LocalCluster } from '@inner-talk/local-cluster';
import { createRng, sampleLatencyMs, startMockGemini, startMockOpenAI, type LatencySpec, type MockLlmServer } from '@inner-talk/mocks';
import { CLASSIFIER_PROMPT } from '@inner-talk/safety';
import { ConsentStore, connectMongo, type MongoConnection } from '@inner-talk/storage';
import { randomBytes } from 'node:crypto';
import { freePort, repoRoot, serviceUrls, spawnApp, uniquePrefix, type AppProcess } from '@inner-talk/testkit';
import { messageOutcomes, stepNumbers, type ReplyRecord, type SentRecord, type StepNumbers } from './lib/analysis';
import { startBotApiSink, type BotApiSink } from './lib/bot-api-sink';
import { summarizeProfile, type CpuProfile } from './lib/cpuprofile';
import { startLlmFront, type LlmCall, type LlmFront } from './lib/llm-timing';
import { findPids, machineCpuTicks, ProcessSampler, processTree, type ProcessGroup } from './lib/proc';
import { commandDelta, commandStats, startPrivateRedis, type PrivateRedis } from './lib/redis-stats';
import { round } from './lib/stats';
import { scalingChartSvg, type ChartSeries } from './lib/svg-chart';
import { WebhookDelivery, type Delivery } from './lib/webhook-delivery';
import { messageText, sessionSchedule, textUpdate, tokensIn, virtualUser, type VirtualUser } from './lib/workload';
import { flagList, numberFlag, parseFlagArgs, type FlagTable } from './lib/flags';
import { runBench, sleep, out } from './lib/run';

// ---- flags -------------------------------------------------------------------------------------

interface Flags {
  workers: number;
  rates: number[];
  stepS: number;
  graceS: number;
  concurrency: number;
  sessionMessages: number;
  thinkS: [number, number];
  latencyMedianMs: number;
  latencyP99Ms: number;
  latencyMaxMs: number;
  classifierMedianMs: number;
  classifierP99Ms: number;
  classifierMaxMs: number;
  cluster: boolean;
  baseline: boolean;
  kill: boolean;
  killRate: number | null;
  killDurationS: number;
  killAtS: number;
  restartAfterMs: number;
  killGraceS: number;
  scaling: boolean;
  scalingWorkers: number[];
  scalingRates: number[];
  overheadLimitMs: number;
  maxConnections: number | null;
  webhookTimeoutS: number;
  retryFirstMs: number;
  retryMaxMs: number;
  profile: boolean;
  redis: 'private' | 'shared';
  resultsDir: string;
  chart: string;
  seed: number;
  logLevel: string;
}

const DEFAULTS: Flags = {
  workers: 2,
  rates: [20, 40],
  stepS: 20,
  graceS: 20,
  concurrency: 50,
  sessionMessages: 5,
  thinkS: [10, 30],
  latencyMedianMs: 1000,
  latencyP99Ms: 4000,
  latencyMaxMs: 15_000,
  classifierMedianMs: 300,
  classifierP99Ms: 1000,
  classifierMaxMs: 3000,
  cluster: true,
  baseline: true,
  kill: true,
  killRate: null,
  killDurationS: 25,
  killAtS: 8,
  restartAfterMs: 1000,
  killGraceS: 60,
  scaling: false,
  scalingWorkers: [1, 2, 4],
  scalingRates: [10, 20, 40, 80, 160, 320, 500],
  overheadLimitMs: 100,
  maxConnections: null,
  webhookTimeoutS: 60,
  retryFirstMs: 1000,
  retryMaxMs: 30_000,
  profile: false,
  redis: 'private',
  resultsDir: 'bench/results',
  chart: 'docs/performance-scaling.svg',
  seed: 7,
  logLevel: 'info',
};

type Kind = 'int' | 'num' | 'ints' | 'range' | 'str';
const FLAGS: FlagTable<Flags, Kind> = {
  workers: ['workers', 'int'],
  rates: ['rates', 'ints'],
  step: ['stepS', 'num'],
  grace: ['graceS', 'num'],
  concurrency: ['concurrency', 'int'],
  'session-messages': ['sessionMessages', 'int'],
  think: ['thinkS', 'range'],
  'latency-median': ['latencyMedianMs', 'num'],
  'latency-p99': ['latencyP99Ms', 'num'],
  'latency-max': ['latencyMaxMs', 'num'],
  'classifier-median': ['classifierMedianMs', 'num'],
  'classifier-p99': ['classifierP99Ms', 'num'],
  'classifier-max': ['classifierMaxMs', 'num'],
  cluster: ['cluster', 'bool'],
  baseline: ['baseline', 'bool'],
  kill: ['kill', 'bool'],
  'kill-rate': ['killRate', 'num'],
  'kill-duration': ['killDurationS', 'num'],
  'kill-at': ['killAtS', 'num'],
  'restart-after-ms': ['restartAfterMs', 'num'],
  'kill-grace': ['killGraceS', 'num'],
  scaling: ['scaling', 'bool'],
  'scaling-workers': ['scalingWorkers', 'ints'],
  'scaling-rates': ['scalingRates', 'ints'],
  'overhead-limit-ms': ['overheadLimitMs', 'num'],
  'max-connections': ['maxConnections', 'int'],
  'webhook-timeout': ['webhookTimeoutS', 'num'],
  'retry-first-ms': ['retryFirstMs', 'num'],
  'retry-max-ms': ['retryMaxMs', 'num'],
  profile: ['profile', 'bool'],
  redis: ['redis', 'str'],
  results: ['resultsDir', 'str'],
  chart: ['chart', 'str'],
  seed: ['seed', 'int'],
  'log-level': ['logLevel', 'str'],
};

function usage(problem: string): never {
  console.error(`bench:load: ${problem}\nflags: ${flagList(FLAGS)} (booleans also as --no-<flag>; see docs/performance.md)`);
  process.exit(2);
}

function parseFlags(argv: readonly string[]): Flags {
  const flags = parseFlagArgs(argv, DEFAULTS, FLAGS, (kind, value, flag) => {
    const positive = (v: string) => numberFlag(v, flag, usage);
    switch (kind) {
      case 'str':
        return value;
      case 'num':
        return positive(value);
      case 'int':
        return numberFlag(value, flag, usage, { integer: true });
      case 'ints':
        return value.split(',').map(positive);
      case 'range': {
        const [a, b] = value.split('-').map(positive);
        if (a === undefined || (b !== undefined && b < a)) usage(`${flag} takes MIN-MAX seconds, e.g. 10-30`);
        return [a, b ?? a];
      }
    }
  }, usage);
  if (flags.redis !== 'private' && flags.redis !== 'shared') usage('--redis must be private or shared');
  if (flags.killAtS >= flags.killDurationS) usage('need --kill-at < --kill-duration');
  if (!flags.cluster && !flags.baseline && !flags.scaling) usage('nothing to run: --no-cluster and --no-baseline');
  return flags;
}

// ---- the rig: everything that outlives one system under test ---------------------------------

const TOKEN = '424242:bench-load-token';
const SECRET = 'bench-load-webhook-secret-0123456789abcdef';

interface Rig {
  flags: Flags;
  redisUrl: string;
  mongoUrl: string;
  privateRedis: PrivateRedis | null;
  redisPids: () => number[];
  mongoPids: () => number[];
  redis: Redis;
  sink: BotApiSink;
  gemini: MockLlmServer;
  openai: MockLlmServer;
  fronts: { gemini: LlmFront; openai: LlmFront };
  /** DATA_ENCRYPTION_KEYS for the apps (a throwaway key per run). */
  keyring: string;
  resultsFile: string;
  nextUpdateId: number;
  nextUserId: number;
  stepNo: number;
}

/** One system under test: the cluster or the baseline bot. */
interface System {
  kind: 'cluster' | 'baseline';
  workers: number;
  concurrency: number | null;
  consents: ConsentStore;
  delivery: WebhookDelivery;
  /** Process groups to measure; the ones named in `workerGroups` count as "worker". */
  groups(): ProcessGroup[];
  workerGroups(): string[];
  /** SIGKILLs one worker (the cluster) or the bot (the baseline); returns what was killed. */
  kill(): string;
  /** Starts a replacement, as a container restart policy would. */
  restart(): Promise<void>;
  logFiles(): string[];
  stop(): Promise<void>;
}

/**
 * Prepares one virtual person before anything is measured: whatever the product needs before a
 * person's texts get model replies. Onboarding (language, 18+, consent) is not what this benchmark
 * measures, so it uses the documented consent fixture of packages/storage, the same write the
 * consent button makes. Whatever the product comes to require first, it goes here (one function).
 */
async function prepareUser(consents: ConsentStore, user: VirtualUser): Promise<void> {
  await consents.grantConsent(`tg:${user.id}`, user.languageCode, new Date());
}

async function prepareAll(store: ConsentStore, users: readonly VirtualUser[]): Promise<number> {
  const started = Date.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      while (next < users.length) await prepareUser(store, users[next++]!);
    }),
  );
  return Date.now() - started;
}

function appGroup(name: string, proc: () => AppProcess | undefined): ProcessGroup {
  return { name, pids: () => (proc()?.exitCode() === null ? processTree(proc()!.pid) : []) };
}

async function startCluster(rig: Rig, workers: number, profileDir: string | null): Promise<System> {
  const prefix = uniquePrefix('bench_ld');
  const since = Date.now();
  const cluster: LocalCluster = await startLocalCluster({
    workers,
    redisUrl: rig.redisUrl,
    mongoUrl: rig.mongoUrl,
    prefix,
    mongoDb: prefix,
    telegram: { token: TOKEN, apiRoot: rig.sink.apiRoot },
    ingress: { mode: 'webhook', secret: SECRET, register: true },
    llm: [
      { name: 'gemini', api: 'gemini', keys: ['bench-project:bench-gemini-key'], baseUrl: rig.fronts.gemini.sdkBaseUrl },
      { name: 'openai', api: 'openai', keys: ['bench-openai-key'], baseUrl: rig.fronts.openai.sdkBaseUrl },
    ],
    workerConcurrency: rig.flags.concurrency,
    logLevel: rig.flags.logLevel,
    extraEnv: { DATA_ENCRYPTION_KEYS: rig.keyring },
    ...(profileDir && { workerEnv: { NODE_OPTIONS: `--cpu-prof --cpu-prof-dir=${profileDir}` } }),
  });
  const mongo: MongoConnection = await connectMongo(rig.mongoUrl, prefix);
  const delivery = newDelivery(rig, since);
  const killed = new Set<AppProcess>();
  return {
    kind: 'cluster',
    workers,
    concurrency: rig.flags.concurrency,
    consents: new ConsentStore(mongo.db),
    delivery,
    groups: () => [
      appGroup('ingress', () => cluster.ingress),
      appGroup('metrics', () => cluster.metrics),
      ...cluster.workers.map((w) => appGroup(w.name, () => w)),
    ],
    workerGroups: () => cluster.workers.map((w) => w.name),
    kill: () => {
      const victim = cluster.workers.find((w) => !killed.has(w) && w.exitCode() === null)!;
      killed.add(victim);
      victim.kill();
      return victim.name;
    },
    restart: async () => void (await cluster.addWorker()),
    logFiles: () => [cluster.ingress, cluster.metrics, ...cluster.workers].map((p) => p.logFile),
    stop: async () => {
      delivery.close();
      await cluster.stop();
      await mongo.close();
      await clearClusterData(rig.redisUrl, rig.mongoUrl, prefix, prefix).catch((e: unknown) => console.error('cleaning Redis/MongoDB:', e));
    },
  };
}

async function startBaseline(rig: Rig): Promise<System> {
  const mongoDb = uniquePrefix('bench_bl');
  const port = await freePort();
  const since = Date.now();
  const spawn = () =>
    spawnApp({
      name: 'baseline',
      entry: 'bench/baseline/bot.ts',
      env: {
        NODE_ENV: 'development',
        TELEGRAM_BOT_TOKEN: TOKEN,
        TELEGRAM_API_ROOT: rig.sink.apiRoot,
        MONGO_URL: rig.mongoUrl,
        MONGO_DB: mongoDb,
        HTTP_PORT: String(port),
        WEBHOOK_SECRET: SECRET,
        WEBHOOK_PUBLIC_URL: `http://127.0.0.1:${port}/telegram/webhook`,
        LLM_CHAIN: 'gemini',
        LLM_GEMINI_API: 'gemini',
        LLM_GEMINI_KEYS: 'bench-project:bench-gemini-key',
        LLM_GEMINI_BASE_URL: rig.fronts.gemini.sdkBaseUrl,
        DATA_ENCRYPTION_KEYS: rig.keyring,
      },
      readyPattern: /baseline bot listening/,
      readyTimeoutMs: 30_000,
    });
  let proc = await spawn();
  const procs = [proc];
  const mongo = await connectMongo(rig.mongoUrl, mongoDb);
  const delivery = newDelivery(rig, since);
  return {
    kind: 'baseline',
    workers: 1,
    concurrency: null,
    consents: new ConsentStore(mongo.db),
    delivery,
    groups: () => [appGroup('baseline', () => proc)],
    workerGroups: () => ['baseline'],
    kill: () => {
      proc.kill();
      return 'baseline';
    },
    restart: async () => {
      proc = await spawn();
      procs.push(proc);
    },
    logFiles: () => procs.map((p) => p.logFile),
    stop: async () => {
      delivery.close();
      await proc.stop('SIGTERM', 10_000);
      await mongo.db.dropDatabase().catch(() => undefined);
      await mongo.close();
    },
  };
}

function newDelivery(rig: Rig, since: number): WebhookDelivery {
  return new WebhookDelivery({
    // Only a registration made by this system (the previous one's URL is dead).
    target: () => {
      const w = rig.sink.webhook();
      return w && w.at >= since ? w : null;
    },
    ...(rig.flags.maxConnections !== null && { maxConnections: rig.flags.maxConnections }),
    timeoutMs: rig.flags.webhookTimeoutS * 1000,
    retryFirstMs: rig.flags.retryFirstMs,
    retryMaxMs: rig.flags.retryMaxMs,
  });
}

// ---- one step of load ----------------------------------------------------------------------------

interface StepSpec {
  kind: 'step' | 'kill' | 'warmup';
  rate: number;
  durationS: number;
  graceS: number;
}

type StepResult = StepNumbers & Record<string, unknown>;

async function runStep(rig: Rig, sys: System, spec: StepSpec): Promise<StepResult> {
  const { flags } = rig;
  rig.stepNo += 1;
  const tag = `${spec.kind === 'warmup' ? 'w' : sys.kind === 'cluster' ? 'c' : 'b'}${rig.stepNo}`;
  const schedule = sessionSchedule({ rate: spec.rate, durationS: spec.durationS, sessionMessages: flags.sessionMessages, thinkMinS: flags.thinkS[0], thinkMaxS: flags.thinkS[1], seed: flags.seed * 1000 + rig.stepNo });
  const users = Array.from({ length: schedule.users }, () => virtualUser(rig.nextUserId++));
  const prepMs = await prepareAll(sys.consents, users);

  const groups = (): ProcessGroup[] => [
    ...sys.groups(),
    { name: 'redis', pids: rig.redisPids },
    { name: 'mongo', pids: rig.mongoPids },
    { name: 'bench', pids: () => [process.pid] },
  ];
  const sampler = new ProcessSampler(groups);
  const lag = monitorEventLoopDelay({ resolution: 10 });
  // Redis commands while nothing is sent (pollers, timers, the metrics app): subtracted per message below.
  const idleFrom = await commandStats(rig.redis);
  const idleStarted = Date.now();
  if (spec.kind !== 'warmup') await sleep(2000);
  const cmdBefore = await commandStats(rig.redis);
  const idleOpsPerS = Object.values(commandDelta(idleFrom, cmdBefore)).reduce((a, b) => a + b, 0) / Math.max(0.001, (Date.now() - idleStarted) / 1000);
  const cmdBeforeAt = Date.now();
  const fronts = [rig.fronts.gemini, rig.fronts.openai];
  const callsFrom = fronts.map((f) => f.calls().length);
  const sinkFrom = rig.sink.messages.length;
  const machineBefore = machineCpuTicks();
  const deliveries = new Map<string, Delivery>();
  const sent: SentRecord[] = [];
  const messageSeq = new Map<number, number>();

  sampler.start();
  lag.enable();
  const t0 = Date.now() + 50;
  const events: string[] = [];
  let killedAt: number | null = null;
  let restartedAt: number | null = null;
  const killTask =
    spec.kind === 'kill'
      ? (async () => {
          await sleep(t0 + flags.killAtS * 1000 - Date.now());
          killedAt = Date.now();
          events.push(`+${((killedAt - t0) / 1000).toFixed(1)} s SIGKILL ${sys.kill()}`);
          await sleep(flags.restartAfterMs);
          await sys.restart();
          restartedAt = Date.now();
          events.push(`+${((restartedAt - t0) / 1000).toFixed(1)} s replacement ready`);
        })()
      : Promise.resolve();

  // Open loop: send what is due, whatever the replies do.
  let i = 0;
  const msgs = schedule.messages;
  while (i < msgs.length) {
    const wait = t0 + msgs[i]!.atMs - Date.now();
    if (wait > 0) await sleep(wait);
    const now = Date.now();
    while (i < msgs.length && t0 + msgs[i]!.atMs <= now) {
      const m = msgs[i]!;
      const user = users[m.user]!;
      const token = `${tag}.${i}`;
      const text = messageText(token, rig.nextUpdateId);
      const seq = (messageSeq.get(user.id) ?? 0) + 1;
      messageSeq.set(user.id, seq);
      const delivery = sys.delivery.push(textUpdate(rig.nextUpdateId++, seq, user, text, now), now);
      deliveries.set(token, delivery);
      sent.push({ token, chatId: user.id, text, createdAt: now, attempts: 0 });
      i += 1;
    }
  }
  const loadEnd = Math.max(Date.now(), t0 + spec.durationS * 1000);
  await sleep(loadEnd - Date.now());
  const cpuAtLoadEnd = sampler.window();
  const machineAtLoadEnd = machineCpuTicks();
  const benchLagP99 = lag.percentile(99) / 1e6;
  await killTask;

  // Grace: until every message has a reply or time is up; then a little longer for duplicates.
  const waiting = new Set(sent.map((s) => s.token));
  let scanned = sinkFrom;
  const graceEnd = Date.now() + spec.graceS * 1000;
  while (waiting.size > 0 && Date.now() < graceEnd) {
    for (; scanned < rig.sink.messages.length; scanned++) for (const t of tokensIn(rig.sink.messages[scanned]!.text)) waiting.delete(t);
    if (waiting.size > 0) await sleep(200);
  }
  await sleep(1500);
  sampler.stop();
  lag.disable();
  const usage = sampler.window();
  const cmdAfter = await commandStats(rig.redis);
  const cmdSeconds = (Date.now() - cmdBeforeAt) / 1000;

  for (const s of sent) {
    const d = deliveries.get(s.token)!;
    if (d.firstPostAt !== undefined) s.firstPostAt = d.firstPostAt;
    s.attempts = d.attempts;
  }
  const replies: ReplyRecord[] = rig.sink.messages.slice(sinkFrom);
  const calls: LlmCall[] = fronts.flatMap((f, k) => f.calls().slice(callsFrom[k]));
  const outcomes = messageOutcomes(sent, replies, calls);
  const numbers = stepNumbers(outcomes, t0, loadEnd);

  const cmds = commandDelta(cmdBefore, cmdAfter);
  const totalCmds = Object.values(cmds).reduce((a, b) => a + b, 0);
  const perMsg = (n: number) => round(n / Math.max(1, numbers.messages));
  const workerNames = sys.workerGroups();
  const workerUsage = workerNames.map((n) => usage[n]).filter((u) => u !== undefined);
  const stepTokens = new Set(sent.map((s) => s.token));
  const stepChats = new Set(users.map((u) => u.id));
  const unexpected = replies.filter((r) => stepChats.has(r.chatId) && !tokensIn(r.text).some((t) => stepTokens.has(t))).length;
  const machineBusyPct = round(((machineAtLoadEnd.busy - machineBefore.busy) / Math.max(1, machineAtLoadEnd.total - machineBefore.total)) * 100);
  const oursCpu = Object.values(cpuAtLoadEnd).reduce((a, u) => a + u.cpuPct, 0);

  // Kill phase: which messages were waiting when the process died.
  let killInfo: Record<string, unknown> = {};
  if (killedAt !== null) {
    const k = killedAt;
    const inFlight = outcomes.filter((o) => o.createdAt <= k && (o.firstReplyAt === null || o.firstReplyAt > k));
    killInfo = {
      killed_at_s: round((k - t0) / 1000),
      replacement_ready_after_ms: restartedAt === null ? null : (restartedAt as number) - k,
      waiting_at_kill: inFlight.length,
      lost_of_waiting_at_kill: inFlight.filter((o) => o.firstReplyAt === null).length,
      recovered_ms_max: round(Math.max(0, ...inFlight.filter((o) => o.firstReplyAt !== null).map((o) => o.firstReplyAt! - k))),
      events,
    };
  }

  const result: StepResult = {
    kind: spec.kind,
    system: sys.kind,
    workers: sys.workers,
    concurrency: sys.concurrency,
    offered_msg_s: spec.rate,
    duration_s: spec.durationS,
    sent_msg_s: round(sent.length / spec.durationS),
    users: users.length,
    ...numbers,
    unexpected_replies: unexpected,
    worker_rss_mb: round(Math.max(0, ...workerUsage.map((u) => u.rssMaxMb))),
    worker_cpu_pct: round(workerUsage.reduce((a, u) => a + u.cpuPct, 0)),
    cpu_pct: Object.fromEntries(Object.entries(cpuAtLoadEnd).map(([k, u]) => [k, u.cpuPct])),
    rss_mb: Object.fromEntries(Object.entries(usage).map(([k, u]) => [k, u.rssMaxMb])),
    machine_busy_pct: machineBusyPct,
    // The host has os.cpus().length cores; what is busy beyond our processes is someone else's.
    other_cpu_pct: round(Math.max(0, ((machineBusyPct ?? 0) * os.cpus().length) - oursCpu)),
    redis_ops_per_msg: perMsg(Math.max(0, totalCmds - idleOpsPerS * cmdSeconds)),
    redis_ops_per_msg_gross: perMsg(totalCmds),
    redis_idle_ops_s: round(idleOpsPerS),
    redis_top: Object.fromEntries(Object.entries(cmds).sort((a, b) => b[1] - a[1]).slice(0, 10).map(([c, n]) => [c, perMsg(n)])),
    redis_shared: rig.privateRedis === null,
    bench_loop_lag_p99_ms: round(benchLagP99),
    webhook_failures: sys.delivery.stats().failures,
    unknown_api_methods: rig.sink.unknownMethods(),
    llm_calls: { classifier: calls.filter((c) => c.kind === 'classifier').length, reply: calls.filter((c) => c.kind === 'reply').length, failed: calls.filter((c) => !c.ok).length },
    prepare_ms: prepMs,
    loadavg_1m: round(os.loadavg()[0] ?? 0),
    ...killInfo,
    at: new Date(t0).toISOString(),
  };
  return result;
}

function describe(r: StepResult): string {
  const f = (v: unknown) => (v === null || v === undefined ? '—' : String(v));
  return (
    `${String(r.system).padEnd(8)} W=${r.workers} ${String(r.kind).padEnd(4)} offered ${r.offered_msg_s}/s → ${r.throughput_msg_s}/s  ` +
    `e2e p50/p95/p99 ${f(r.e2e_p50_ms)}/${f(r.e2e_p95_ms)}/${f(r.e2e_p99_ms)} ms  overhead p50/p95/p99 ${f(r.overhead_p50_ms)}/${f(r.overhead_p95_ms)}/${f(r.overhead_p99_ms)} ms  ` +
    `lost ${r.lost}/${r.messages} dup ${r.duplicates} wrong-chat ${r.wrong_chat}  worker RSS ${r.worker_rss_mb} MB CPU ${r.worker_cpu_pct}%  ` +
    `redis ${r.redis_ops_per_msg} cmd/msg  host busy ${f(r.machine_busy_pct)}% (others ${f(r.other_cpu_pct)}% of a core)  bench lag p99 ${r.bench_loop_lag_p99_ms} ms`
  );
}

function record(rig: Rig, r: Record<string, unknown>): void {
  fs.appendFileSync(rig.resultsFile, `${JSON.stringify(r)}\n`);
}

async function warmUp(rig: Rig, sys: System): Promise<void> {
  const r = await runStep(rig, sys, { kind: 'warmup', rate: 5, durationS: 3, graceS: 30 });
  out(`  warm-up: ${r.answered}/${r.messages} answered (not measured)`);
}

/** The required fields of the issue's JSON line, from one step's result. */
function headline(r: StepResult): Record<string, unknown> {
  return {
    workers: r.workers,
    offered_msg_s: r.offered_msg_s,
    throughput_msg_s: r.throughput_msg_s,
    e2e_p50_ms: r.e2e_p50_ms,
    e2e_p95_ms: r.e2e_p95_ms,
    e2e_p99_ms: r.e2e_p99_ms,
    overhead_p50_ms: r.overhead_p50_ms,
    overhead_p99_ms: r.overhead_p99_ms,
    lost: r.lost,
    duplicates: r.duplicates,
    worker_rss_mb: r.worker_rss_mb,
  };
}

function machine(): Record<string, unknown> {
  let osName = os.type();
  try {
    osName = /^PRETTY_NAME="?([^"\n]+)"?/m.exec(fs.readFileSync('/etc/os-release', 'utf8'))?.[1] ?? osName;
  } catch {
    // not Linux-like
  }
  return { cores: os.cpus().length, cpu: os.cpus()[0]?.model ?? '?', ram_gb: round(os.totalmem() / 1024 ** 3), os: `${osName} (kernel ${os.release()})`, node: process.version };
}

// ---- the phases ----------------------------------------------------------------------------------

const ratio = (a: unknown, b: unknown) => (typeof a === 'number' && typeof b === 'number' && b > 0 ? round(a / b) : null);

async function comparisonRun(rig: Rig): Promise<Record<string, unknown>> {
  const { flags } = rig;
  const killRate = flags.killRate ?? flags.rates[0]!;
  const results: Record<'cluster' | 'baseline', StepResult[]> = { cluster: [], baseline: [] };
  const kills: Partial<Record<'cluster' | 'baseline', StepResult>> = {};
  const extra: { profile?: Record<string, unknown> } = {};

  const phase = async (kind: 'cluster' | 'baseline') => {
    const profileDir = kind === 'cluster' && flags.profile ? fs.mkdtempSync(path.join(os.tmpdir(), 'inner-talk-cpuprof-')) : null;
    out(`\n== ${kind}: starting ${kind === 'cluster' ? `ingress + ${flags.workers} workers (concurrency ${flags.concurrency}) + metrics` : 'the single-process grammY bot'}…`);
    const sys = kind === 'cluster' ? await startCluster(rig, flags.workers, profileDir) : await startBaseline(rig);
    try {
      await warmUp(rig, sys);
      for (const rate of flags.rates) {
        const r = await runStep(rig, sys, { kind: 'step', rate, durationS: flags.stepS, graceS: flags.graceS });
        results[kind].push(r);
        record(rig, r);
        out(describe(r));
      }
      if (flags.kill) {
        out(`  kill test: ${killRate} msg/s for ${flags.killDurationS} s, SIGKILL at +${flags.killAtS} s, replacement started ${flags.restartAfterMs} ms later`);
        const r = await runStep(rig, sys, { kind: 'kill', rate: killRate, durationS: flags.killDurationS, graceS: flags.killGraceS });
        kills[kind] = r;
        record(rig, r);
        out(describe(r));
        out(`  ${(r.events as string[]).join('; ')}; waiting at the kill ${String(r.waiting_at_kill)}, of them lost ${String(r.lost_of_waiting_at_kill)}`);
      }
    } finally {
      out(`  stopping the ${kind}…`);
      await sys.stop();
    }
    const profile = profileDir ? readProfile(profileDir) : null;
    if (profile) extra.profile = profile;
  };

  if (flags.cluster) await phase('cluster');
  if (flags.baseline) await phase('baseline');

  const top = (flags.cluster ? results.cluster : results.baseline).at(-1)!;
  const ratios = flags.baseline && flags.cluster
    ? results.cluster.map((c, k) => {
        const b = results.baseline[k];
        return {
          offered_msg_s: c.offered_msg_s,
          overhead_p99_ratio: ratio(c.overhead_p99_ms, b?.overhead_p99_ms),
          overhead_p50_ratio: ratio(c.overhead_p50_ms, b?.overhead_p50_ms),
          e2e_p99_ratio: ratio(c.e2e_p99_ms, b?.e2e_p99_ms),
          baseline_overhead_p99_ms: b?.overhead_p99_ms ?? null,
          baseline_throughput_msg_s: b?.throughput_msg_s ?? null,
          baseline_lost: b?.lost ?? null,
        };
      })
    : [];
  return {
    ...headline(top),
    mode: 'compare',
    steps: results.cluster.map((r) => ({ offered: r.offered_msg_s, throughput: r.throughput_msg_s, overhead_p99_ms: r.overhead_p99_ms, lost: r.lost })),
    overhead_p95_ms: top.overhead_p95_ms,
    worker_cpu_pct: top.worker_cpu_pct,
    redis_ops_per_msg: top.redis_ops_per_msg,
    baseline: ratios,
    kill: flags.kill
      ? {
          cluster_lost: kills.cluster?.lost ?? null,
          cluster_duplicates: kills.cluster?.duplicates ?? null,
          cluster_waiting_at_kill: kills.cluster?.waiting_at_kill ?? null,
          baseline_lost: kills.baseline?.lost ?? null,
          baseline_duplicates: kills.baseline?.duplicates ?? null,
          baseline_waiting_at_kill: kills.baseline?.waiting_at_kill ?? null,
        }
      : null,
    ...extra,
  };
}

async function scalingRun(rig: Rig): Promise<Record<string, unknown>> {
  const { flags } = rig;
  const series: ChartSeries[] = [];
  const best: Record<string, StepResult | null> = {};
  for (const workers of flags.scalingWorkers) {
    out(`\n== scaling: ${workers} worker(s), concurrency ${flags.concurrency} each`);
    const sys = await startCluster(rig, workers, null);
    const points: ChartSeries['points'] = [];
    best[workers] = null;
    try {
      await warmUp(rig, sys);
      for (const rate of flags.scalingRates) {
        const r = await runStep(rig, sys, { kind: 'step', rate, durationS: flags.stepS, graceS: flags.graceS });
        record(rig, r);
        out(describe(r));
        points.push({ offered: rate, throughput: r.throughput_msg_s, overheadP99: r.overhead_p99_ms, e2eP99: r.e2e_p99_ms, lost: r.lost });
        const ok = r.lost === 0 && r.overhead_p99_ms !== null && r.overhead_p99_ms <= flags.overheadLimitMs;
        if (!ok) {
          out(`  stop: ${r.lost > 0 ? `${r.lost} lost` : `overhead p99 ${r.overhead_p99_ms} ms > ${flags.overheadLimitMs} ms`}`);
          break;
        }
        best[workers] = r;
      }
    } finally {
      await sys.stop();
    }
    series.push({ label: `${workers} worker${workers > 1 ? 's' : ''}`, points });
  }
  const m = machine();
  const svg = scalingChartSvg(series, {
    title: 'Inner Talk cluster: throughput and overhead p99 against offered load',
    subtitle: `${new Date().toISOString().slice(0, 10)} · ${String(m.cores)} cores, ${String(m.ram_gb)} GB, ${String(m.node)} · LLM mock median ${flags.latencyMedianMs} ms, p99 ${flags.latencyP99Ms} ms · ${flags.stepS} s per step`,
    overheadLimitMs: flags.overheadLimitMs,
  });
  const chartPath = path.resolve(repoRoot(), flags.chart);
  fs.mkdirSync(path.dirname(chartPath), { recursive: true });
  fs.writeFileSync(chartPath, svg);
  out(`\nchart written to ${path.relative(repoRoot(), chartPath)}`);
  const winners = Object.values(best).filter((r): r is StepResult => r !== null);
  const top = winners.sort((a, b) => b.throughput_msg_s - a.throughput_msg_s)[0];
  return {
    ...(top ? headline(top) : { workers: null, offered_msg_s: null, throughput_msg_s: null }),
    mode: 'scaling',
    max_sustained: Object.fromEntries(
      Object.entries(best).map(([w, r]) => [w, r ? { offered_msg_s: r.offered_msg_s, throughput_msg_s: r.throughput_msg_s, overhead_p99_ms: r.overhead_p99_ms, worker_cpu_pct: r.worker_cpu_pct, worker_rss_mb: r.worker_rss_mb } : null]),
    ),
    series: series.map((s) => ({ label: s.label, points: s.points })),
    chart: flags.chart,
  };
}

function readProfile(dir: string): Record<string, unknown> | null {
  const files = fs.readdirSync(dir).filter((f) => f.endsWith('.cpuprofile')).map((f) => path.join(dir, f));
  if (files.length === 0) return null;
  // The biggest profile is a worker's app process (tsx's parent process barely runs).
  const file = files.sort((a, b) => fs.statSync(b).size - fs.statSync(a).size)[0]!;
  const summary = summarizeProfile(JSON.parse(fs.readFileSync(file, 'utf8')) as CpuProfile, 20);
  const kept = path.join(repoRoot(), 'bench/results', `worker-${new Date().toISOString().replace(/[:.]/g, '-')}.cpuprofile`);
  fs.copyFileSync(file, kept);
  out('\n==== CPU profile of a worker (self time, % of busy time) ====');
  out(`profiled ${summary.wallMs} ms, busy ${summary.busyMs} ms; file ${path.relative(repoRoot(), kept)}`);
  out('by package:');
  for (const e of summary.byPackage) out(`  ${String(e.pct).padStart(5)}%  ${e.name}`);
  out('by function:');
  for (const e of summary.byFunction) out(`  ${String(e.pct).padStart(5)}%  ${e.name}`);
  fs.rmSync(dir, { recursive: true, force: true });
  return { file: path.relative(repoRoot(), kept), busy_ms: summary.busyMs, wall_ms: summary.wallMs, by_package: summary.byPackage.slice(0, 12), by_function: summary.byFunction.slice(0, 12) };
}

// ---- main ----------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const flags = parseFlags(process.argv.slice(2));
  const started = Date.now();
  const services = serviceUrls();
  fs.mkdirSync(path.resolve(repoRoot(), flags.resultsDir), { recursive: true });
  const resultsFile = path.resolve(repoRoot(), flags.resultsDir, `load-${flags.scaling ? 'scaling-' : ''}${new Date().toISOString().replace(/[:.]/g, '-')}.jsonl`);

  let privateRedis: PrivateRedis | null = null;
  if (flags.redis === 'private') {
    try {
      privateRedis = await startPrivateRedis();
    } catch (e) {
      out(`private redis-server could not start (${e instanceof Error ? e.message.split('\n')[0] : String(e)}); using the shared one: Redis counts and CPU include other clients`);
    }
  }
  const redisUrl = privateRedis?.url ?? services.redisUrl;
  const mongoPort = new URL(services.mongoUrl).port;
  const redisPort = new URL(redisUrl).port;
  const redisPids = privateRedis ? () => [privateRedis.pid] : () => findPids((c) => c.startsWith('redis-server') && c.includes(`:${redisPort}`));
  const mongoPids = () => findPids((c) => c.includes('ferretdb') && c.includes(`:${mongoPort}`));

  const m = machine();
  out(`bench:load ${new Date().toISOString()}  ${JSON.stringify(flags)}`);
  out(`machine: ${JSON.stringify(m)}  load average ${os.loadavg().map((v) => v.toFixed(2)).join(' ')}`);
  out(`Redis ${redisUrl}${privateRedis ? ` (private redis-server ${privateRedis.version}, pid ${privateRedis.pid})` : ' (shared)'}  MongoDB ${services.mongoUrl}  results → ${path.relative(repoRoot(), resultsFile)}`);

  const replyLatency: LatencySpec = { kind: 'lognormal', medianMs: flags.latencyMedianMs, p99Ms: flags.latencyP99Ms, maxMs: flags.latencyMaxMs };
  const classifierLatency: LatencySpec = { kind: 'lognormal', medianMs: flags.classifierMedianMs, p99Ms: flags.classifierP99Ms, maxMs: flags.classifierMaxMs };
  const sink = await startBotApiSink({ token: TOKEN });
  // The mocks answer at once (a small request log: the fronts keep the timings); the fronts add the latency.
  const gemini = await startMockGemini({ requestLogSize: 100 });
  const openai = await startMockOpenAI({ requestLogSize: 100 });
  const rng = createRng(flags.seed);
  const classifierStart = CLASSIFIER_PROMPT.slice(0, 40);
  const front = (upstream: MockLlmServer) =>
    startLlmFront({
      upstream,
      isClassifier: (system) => system !== null && system.startsWith(classifierStart),
      latencyMs: (kind) => sampleLatencyMs(kind === 'classifier' ? classifierLatency : replyLatency, rng),
    });
  const fronts = { gemini: await front(gemini), openai: await front(openai) };
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: 2 });
  redis.on('error', () => undefined);
  const keyring = `bench:${randomBytes(32).toString('base64')}`;
  const rig: Rig = { flags, redisUrl, mongoUrl: services.mongoUrl, privateRedis, redisPids, mongoPids, redis, sink, gemini, openai, fronts, keyring, resultsFile, nextUpdateId: 100_000_000 + Math.floor(Math.random() * 1e6) * 100, nextUserId: 600_000_000 + Math.floor(Math.random() * 1e6) * 100, stepNo: 0 };
  record(rig, { kind: 'run', at: new Date(started).toISOString(), flags, machine: m, loadavg: os.loadavg(), redis: privateRedis ? `private ${privateRedis.version}` : 'shared' });

  let cleaned = false;
  const cleanup = async () => {
    if (cleaned) return;
    cleaned = true;
    redis.disconnect();
    await sink.close();
    await fronts.gemini.close();
    await fronts.openai.close();
    await gemini.close();
    await openai.close();
    await privateRedis?.stop();
  };
  const interrupted = () => {
    out('\ninterrupted: stopping and cleaning up…');
    void cleanup().finally(() => process.exit(130));
  };
  process.once('SIGINT', interrupted);
  process.once('SIGTERM', interrupted);

  try {
    const summary = flags.scaling ? await scalingRun(rig) : await comparisonRun(rig);
    const final = { ...summary, date: new Date().toISOString(), duration_s: Math.round((Date.now() - started) / 1000), machine: m, llm_latency: { median_ms: flags.latencyMedianMs, p99_ms: flags.latencyP99Ms, classifier_median_ms: flags.classifierMedianMs, classifier_p99_ms: flags.classifierP99Ms }, session: { messages: flags.sessionMessages, think_s: flags.thinkS } };
    record(rig, { kind: 'final', ...final });
    out(`\ndone in ${((Date.now() - started) / 1000).toFixed(0)} s; raw lines in ${path.relative(repoRoot(), resultsFile)}`);
    await cleanup();
    out(JSON.stringify(final));
  } catch (error) {
    await cleanup();
    throw error;
  }
}

runBench('bench:load', main);
