/**
 * Chaos run: the whole cluster (ingress, N workers, metrics as separate processes) under a steady
 * load of emulated Telegram users while things break — a random worker is SIGKILLed every few
 * seconds and started again (as a container restart policy would), Redis is killed and restarted
 * once (same port, same AOF), and MongoDB (FerretDB) is stopped for a while and started again.
 * Then it counts, from the Telegram emulator's record of every sendMessage, whether each message got
 * exactly one real reply.
 *
 *   pnpm chaos [--small] [--workers 3] [--users 40] [--rate 5] [--duration 120] [--kill-every 5] …
 *
 * Redis and FerretDB are this run's own processes (never the shared test servers), so they can be
 * crashed. Flags and the method: bench/README.md. The last line of output is one JSON object; the
 * exit code is 0 only when nothing was lost and nothing was delivered twice.
 */
import fs from 'node:fs';
import { Redis } from 'ioredis';
import { TEXTS } from '@inner-talk/conversation';
import { grantConsents, startLocalCluster, type LocalCluster } from '@inner-talk/local-cluster';
import { createRng, startMockGemini, startMockOpenAI, startTelegramEmulator, type LatencySpec, type MockLlmServer, type TelegramEmulator, type TelegramUserClient } from '@inner-talk/mocks';
import { ChatInbox, chatKeyPrefix } from '@inner-talk/queue';
import { uniquePrefix, type AppProcess } from '@inner-talk/testkit';
import { parseKeyring, Vault } from '@inner-talk/vault';
import { startRestartableFerretDb, startRestartableRedis, type RestartableServer } from './lib/chaos-services';
import { max, percentile } from './lib/stats';
import { jsonLines } from './lib/worker-logs';
import { flagList, numberFlag, parseFlagArgs, type FlagTable } from './lib/flags';
import { runBench, sleep, out, expectedReply, type SentMessage, type ReceivedReply } from './lib/run';

// ---- flags -------------------------------------------------------------------------------------

type Signal = 'SIGKILL' | 'SIGTERM';

interface Flags {
  small: boolean;
  workers: number;
  users: number;
  rate: number;
  durationS: number;
  kill: boolean;
  killEveryS: number;
  restartAfterMs: number;
  redis: boolean;
  redisRestartAtS: number;
  redisDownMs: number;
  redisSignal: Signal;
  appendfsync: 'everysec' | 'always';
  mongo: boolean;
  mongoDownAtS: number;
  mongoDownS: number;
  mongoSignal: Signal;
  graceS: number;
  sweepIdleMs: number;
  leaseMs: number;
  latencyMedianMs: number;
  latencyP99Ms: number;
  seed: number;
}

const DEFAULTS: Flags = {
  small: false,
  workers: 3,
  users: 40,
  rate: 5,
  durationS: 120,
  kill: true,
  killEveryS: 5,
  restartAfterMs: 1000,
  redis: true,
  redisRestartAtS: 30,
  redisDownMs: 2000,
  redisSignal: 'SIGKILL',
  appendfsync: 'everysec',
  mongo: true,
  mongoDownAtS: 60,
  mongoDownS: 30,
  mongoSignal: 'SIGTERM',
  graceS: 120,
  sweepIdleMs: 10_000,
  leaseMs: 10_000,
  latencyMedianMs: 300,
  latencyP99Ms: 1000,
  seed: 1,
};

/** The CI scale: about 60–90 s in all on a 2-core machine. */
const SMALL: Partial<Flags> = {
  small: true,
  users: 30,
  rate: 5,
  durationS: 40,
  redisRestartAtS: 10,
  redisDownMs: 1000,
  mongoDownAtS: 20,
  mongoDownS: 10,
  graceS: 60,
};

type Kind = 'int' | 'num' | 'signal' | 'fsync';
/** Flags where 0 means something (no Redis downtime, an immediate restart). */
const ZERO_ALLOWED = new Set(['--redis-down-ms', '--restart-after-ms']);
const FLAGS: FlagTable<Flags, Kind> = {
  small: ['small', 'bool'],
  workers: ['workers', 'int'],
  users: ['users', 'int'],
  rate: ['rate', 'num'],
  duration: ['durationS', 'num'],
  kill: ['kill', 'bool'],
  'kill-every': ['killEveryS', 'num'],
  'restart-after-ms': ['restartAfterMs', 'num'],
  redis: ['redis', 'bool'],
  'redis-restart-at': ['redisRestartAtS', 'num'],
  'redis-down-ms': ['redisDownMs', 'num'],
  'redis-signal': ['redisSignal', 'signal'],
  appendfsync: ['appendfsync', 'fsync'],
  mongo: ['mongo', 'bool'],
  'mongo-down-at': ['mongoDownAtS', 'num'],
  'mongo-down': ['mongoDownS', 'num'],
  'mongo-signal': ['mongoSignal', 'signal'],
  grace: ['graceS', 'num'],
  'sweep-idle-ms': ['sweepIdleMs', 'int'],
  'lease-ms': ['leaseMs', 'int'],
  'latency-median': ['latencyMedianMs', 'num'],
  'latency-p99': ['latencyP99Ms', 'num'],
  seed: ['seed', 'int'],
};

function usage(problem: string): never {
  console.error(`chaos: ${problem}\nflags: ${flagList(FLAGS)} (on/off flags also as --no-<flag>; see bench/README.md)`);
  process.exit(2);
}

function parseFlags(argv: readonly string[]): Flags {
  // --small is a preset: flags given with it win wherever they appear.
  const defaults: Flags = { ...DEFAULTS, ...(argv.includes('--small') ? SMALL : {}) };
  const flags = parseFlagArgs(argv, defaults, FLAGS, (kind, value, flag) => {
    switch (kind) {
      case 'signal': {
        const s = value.toUpperCase().replace(/^(SIG)?/, 'SIG');
        if (s !== 'SIGKILL' && s !== 'SIGTERM') usage(`${flag} must be KILL or TERM`);
        return s;
      }
      case 'fsync':
        if (value !== 'everysec' && value !== 'always') usage('--appendfsync must be everysec or always');
        return value;
      case 'int':
      case 'num':
        return numberFlag(value, flag, usage, { integer: kind === 'int', allowZero: ZERO_ALLOWED.has(flag) });
    }
  }, usage);
  if (flags.redis && flags.redisRestartAtS >= flags.durationS) usage('need --redis-restart-at < --duration');
  if (flags.mongo && flags.mongoDownAtS >= flags.durationS) usage('need --mongo-down-at < --duration');
  // Faster people are told to slow down (a correct answer, but not the reply this run counts).
  if ((flags.rate / flags.users) * 60 > USER_MESSAGES_PER_MINUTE - 2) usage(`--rate / --users gives each person more than ${USER_MESSAGES_PER_MINUTE - 2} messages a minute; the workers allow ${USER_MESSAGES_PER_MINUTE}`);
  return flags;
}

// ---- helpers -----------------------------------------------------------------------------------

const TOKEN = '525252:bench-chaos-token';
const FIRST_USER_ID = 810_001;
const WARMUP_USER_ID = 890_001;
const NEED_A_MOMENT = TEXTS.en.needAMoment;
/** Interim notices: "I need a moment", or the crisis contacts sent when the classifier cannot run; the real reply follows both. */
const isNotice = (text: string) => text === NEED_A_MOMENT || text.startsWith(TEXTS.en.safetyUnchecked);
const DEAD_LETTER_NOTICE = TEXTS.en.couldNotAnswer;
/** Per-person limits (USER_MESSAGES_PER_MINUTE, USER_DAILY_TOKEN_BUDGET) answer with these instead of a reply. */
const LIMIT_NOTICES = new Set([TEXTS.en.rateLimited, TEXTS.en.dailyBudgetReached]);
/** The workers' default USER_MESSAGES_PER_MINUTE: the load keeps each person below it. */
const USER_MESSAGES_PER_MINUTE = 12;
/**
 * A duplicate whose first copy reached Telegram at most this long before a worker was killed is
 * attributed to the window DeliveryLedger documents (Telegram accepted, count not yet stored). On a
 * busy 2-core machine that window (Telegram's answer travelling back, the worker's event loop
 * getting to it, one Redis round trip) has been seen to last up to ~120 ms.
 */
const LEDGER_WINDOW_MS = 1000;
/** After the last reply and empty inboxes: how long a late copy would still be caught. */
const TAIL_MS = 3000;


type Sent = SentMessage;
type Reply = ReceivedReply;

interface Kill {
  worker: string;
  pid: number;
  at: number;
  /** Killed by this run (false: the process exited on its own and was restarted like a killed one). */
  ours: boolean;
}

/** Bot messages the emulator accepted (HTTP 200), in arrival order. */
function botReplies(emulator: TelegramEmulator): Reply[] {
  return emulator
    .apiCalls(TOKEN)
    .filter((c) => c.method === 'sendMessage' && c.status === 200)
    .map((c) => ({ chatId: Number(c.payload.chat_id), text: String(c.payload.text ?? ''), at: c.at }));
}

/** Resolves `p`, or `fallback` after `ms` (a Redis that is down must not stall the progress lines). */
async function within<T>(p: Promise<T>, ms: number, fallback: T): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([p.catch(() => fallback), new Promise<T>((resolve) => (timer = setTimeout(() => resolve(fallback), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

/** Value of an unlabelled counter, or the sum over a labelled one, from Prometheus text. */
function metricSum(text: string, name: string): Record<string, number> {
  const byLabels: Record<string, number> = {};
  for (const line of text.split('\n')) {
    const m = new RegExp(`^${name}(\\{[^}]*\\})? ([0-9.eE+-]+)$`).exec(line);
    if (m) byLabels[m[1] ?? ''] = Number(m[2]);
  }
  return byLabels;
}

// ---- the run -----------------------------------------------------------------------------------

async function main(): Promise<number> {
  const flags = parseFlags(process.argv.slice(2));
  const startedRun = Date.now();
  const prefix = uniquePrefix('chaos');
  out(`chaos ${new Date().toISOString()}  ${JSON.stringify(flags)}`);

  let redisServer: (RestartableServer & { version(): string }) | undefined;
  let mongoServer: (RestartableServer & { binary: string }) | undefined;
  let emulator: TelegramEmulator | undefined;
  let primary: MockLlmServer | undefined;
  let fallback: MockLlmServer | undefined;
  let cluster: LocalCluster | undefined;
  let redis: Redis | undefined;
  let supervising = false;
  let supervisor: Promise<void> = Promise.resolve();
  let cleaned = false;
  const cleanup = async () => {
    if (cleaned) return;
    cleaned = true;
    supervising = false;
    await supervisor.catch(() => undefined);
    await cluster?.stop().catch((e: unknown) => console.error('stopping the cluster:', e));
    redis?.disconnect();
    await emulator?.close();
    await primary?.close();
    await fallback?.close();
    await redisServer?.destroy();
    await mongoServer?.destroy();
  };
  const interrupted = () => {
    out('\ninterrupted: stopping the cluster and the servers…');
    void cleanup().finally(() => process.exit(130));
  };
  process.once('SIGINT', interrupted);
  process.once('SIGTERM', interrupted);

  try {
    redisServer = await startRestartableRedis({ appendfsync: flags.appendfsync });
    mongoServer = await startRestartableFerretDb();
    out(`private Redis ${redisServer.version()} ${redisServer.url} (AOF, appendfsync ${flags.appendfsync}, noeviction; log ${redisServer.logFile})`);
    out(`private FerretDB ${mongoServer.url} (${mongoServer.binary}; log ${mongoServer.logFile})  prefix ${prefix}`);
    const redisUrl = redisServer.url;
    const mongoUrl = mongoServer.url;
    redis = new Redis(redisUrl, { enableOfflineQueue: false, maxRetriesPerRequest: 0, commandTimeout: 1000 });
    redis.on('error', () => undefined);

    const latency: LatencySpec = { kind: 'lognormal', medianMs: flags.latencyMedianMs, p99Ms: flags.latencyP99Ms, maxMs: flags.latencyP99Ms * 3 };
    emulator = await startTelegramEmulator();
    primary = await startMockGemini({ config: { latency, seed: flags.seed * 11 } });
    fallback = await startMockOpenAI({ config: { latency, seed: flags.seed * 22 } });

    out(`starting the cluster: ${flags.workers} workers, ingress (polling), metrics…`);
    cluster = await startLocalCluster({
      workers: flags.workers,
      redisUrl,
      mongoUrl,
      prefix,
      mongoDb: prefix,
      telegram: { token: TOKEN, apiRoot: emulator.apiRoot },
      ingress: { mode: 'polling' },
      llm: [
        { name: 'gemini', api: 'gemini', keys: ['chaos-project:chaos-gemini-key'], baseUrl: primary.sdkBaseUrl },
        { name: 'openai', api: 'openai', keys: ['chaos-openai-key'], baseUrl: fallback.sdkBaseUrl },
      ],
      logLevel: 'info',
      extraEnv: {
        // One reply per message: merged rapid texts would make the count ambiguous.
        COALESCE_WINDOW_MS: '0',
        SWEEP_IDLE_MS: String(flags.sweepIdleMs),
        DRAIN_LEASE_MS: String(flags.leaseMs),
      },
    });
    const c = cluster;
    const emu = emulator;
    // Inboxes are named by the chat's pseudonym under the cluster's key.
    const inboxes = new ChatInbox(redis, prefix, new Vault(parseKeyring(c.keyring)));
    const chatKey = (chat: number, part: string) => `${chatKeyPrefix(prefix, inboxes.pseudonymOf(String(chat)))}${part}`;
    out(`cluster up in ${((Date.now() - startedRun) / 1000).toFixed(1)} s`);

    const users: TelegramUserClient[] = Array.from({ length: flags.users }, (_, i) => emu.client(TOKEN, { userId: FIRST_USER_ID + i, languageCode: 'en' }));
    const warm: TelegramUserClient[] = Array.from({ length: flags.workers * 2 }, (_, i) => emu.client(TOKEN, { userId: WARMUP_USER_ID + i, languageCode: 'en' }));
    await grantConsents(mongoUrl, prefix, 'en', [...users, ...warm].map((u) => u.userId));

    // Warm-up (not counted): every process loads its code paths and opens its connections.
    await Promise.all(warm.map((u, i) => u.sendText(`chaos warm-up ${i}`)));
    const warmDeadline = Date.now() + 60_000;
    for (;;) {
      const texts = new Set(botReplies(emu).map((r) => r.text));
      if (warm.every((_, i) => texts.has(expectedReply(`chaos warm-up ${i}`)))) break;
      if (Date.now() > warmDeadline) throw new Error('warm-up: not every warm-up message was answered within 60 s');
      await sleep(200);
    }
    out(`warm-up done (${warm.length} messages answered)`);

    const loadChats = new Set(users.map((u) => u.chatId));
    const sent: Sent[] = [];
    const sends: Array<Promise<void>> = [];
    const realReplies = () => {
      const count = new Map<string, number>();
      for (const r of botReplies(emu)) if (loadChats.has(r.chatId)) count.set(r.text, (count.get(r.text) ?? 0) + 1);
      return count;
    };
    const answeredCount = (replies: Map<string, number>) => sent.filter((s) => (replies.get(expectedReply(s.text)) ?? 0) > 0).length;

    const t0 = Date.now();
    const rel = (t: number) => `+${((t - t0) / 1000).toFixed(1)} s`;
    const relS = (t: number) => Math.round((t - t0) / 100) / 10;
    const loadEnd = t0 + flags.durationS * 1000;
    const rng = createRng(flags.seed);

    // ---- workers: kills and the restart policy ----
    const kills: Kill[] = [];
    const handled = new Set<AppProcess>();
    const restarts: Array<{ worker: string; at: number; startMs: number }> = [];
    const restarting = new Set<Promise<void>>();
    let failedStarts = 0;
    let minAlive = flags.workers;
    const live = () => c.workers.filter((w) => w.exitCode() === null && !handled.has(w));
    // The restart policy: each dead worker (killed by us or exited on its own) is replaced on its
    // own, as a container runtime restarts each container, retrying with backoff while a start fails
    // (e.g. MongoDB is down and the new process gives up connecting).
    const replace = (after: number) => {
      const task = (async () => {
        await sleep(after);
        for (let backoffMs = 1000; supervising; backoffMs = Math.min(10_000, backoffMs * 2)) {
          const began = Date.now();
          try {
            const w = await c.addWorker();
            restarts.push({ worker: w.name, at: Date.now(), startMs: Date.now() - began });
            return;
          } catch {
            failedStarts += 1;
            await sleep(backoffMs);
          }
        }
      })();
      restarting.add(task);
      void task.finally(() => restarting.delete(task));
    };
    supervising = true;
    supervisor = (async () => {
      while (supervising) {
        for (const w of c.workers) {
          if (w.exitCode() !== null && !handled.has(w)) {
            handled.add(w);
            kills.push({ worker: w.name, pid: w.pid, at: Date.now(), ours: false });
            out(`${rel(Date.now())}  ${w.name} EXITED ON ITS OWN (code ${w.exitCode()}); restarting it`);
            replace(flags.restartAfterMs);
          }
        }
        await sleep(100);
      }
      await Promise.all([...restarting]);
    })();

    const killer = (async () => {
      if (!flags.kill) return;
      let next = t0 + flags.killEveryS * 1000 * (0.5 + rng());
      while (next < loadEnd) {
        await sleep(next - Date.now());
        const candidates = live();
        const victim = candidates[Math.floor(rng() * candidates.length)];
        if (victim) {
          handled.add(victim);
          victim.kill();
          kills.push({ worker: victim.name, pid: victim.pid, at: Date.now(), ours: true });
          replace(flags.restartAfterMs);
          minAlive = Math.min(minAlive, candidates.length - 1);
          out(`${rel(Date.now())}  KILL -9 ${victim.name} (pid ${victim.pid}); ${candidates.length - 1} alive`);
        } else {
          out(`${rel(Date.now())}  no live worker to kill`);
        }
        next += flags.killEveryS * 1000 * (0.5 + rng());
      }
    })();

    // ---- Redis: crash and restart once ----
    const redisEvents: { downAt?: number; upAt?: number } = {};
    const redisFault = (async () => {
      if (!flags.redis) return;
      await sleep(t0 + flags.redisRestartAtS * 1000 - Date.now());
      redisEvents.downAt = Date.now();
      out(`${rel(redisEvents.downAt)}  REDIS ${flags.redisSignal === 'SIGKILL' ? 'KILL -9' : 'SIGTERM'}`);
      await redisServer!.kill(flags.redisSignal);
      await sleep(flags.redisDownMs);
      await redisServer!.start();
      redisEvents.upAt = Date.now();
      out(`${rel(redisEvents.upAt)}  REDIS BACK (AOF replayed) after ${redisEvents.upAt - redisEvents.downAt} ms`);
    })();

    // ---- MongoDB: down for a while ----
    const mongoEvents: { downAt?: number; upAt?: number } = {};
    const mongoFault = (async () => {
      if (!flags.mongo) return;
      await sleep(t0 + flags.mongoDownAtS * 1000 - Date.now());
      mongoEvents.downAt = Date.now();
      out(`${rel(mongoEvents.downAt)}  MONGODB (FerretDB) ${flags.mongoSignal === 'SIGKILL' ? 'KILL -9' : 'SIGTERM'}: down for ${flags.mongoDownS} s`);
      await mongoServer!.kill(flags.mongoSignal);
      out(`${rel(Date.now())}  MONGODB process gone`);
      await sleep(mongoEvents.downAt + flags.mongoDownS * 1000 - Date.now());
      await mongoServer!.start();
      mongoEvents.upAt = Date.now();
      out(`${rel(mongoEvents.upAt)}  MONGODB BACK after ${mongoEvents.upAt - mongoEvents.downAt} ms`);
    })();
    const faults = Promise.all([killer, redisFault, mongoFault]);
    let faultsDone = false;
    void faults.then(
      () => (faultsDone = true),
      () => (faultsDone = true),
    );

    let reporting = true;
    const progress = (async () => {
      while (reporting) {
        await sleep(5000);
        if (!reporting) break;
        const replies = realReplies();
        const answered = answeredCount(replies);
        out(
          `${rel(Date.now())}  sent ${sent.length}  answered ${answered}  waiting ${sent.length - answered}  ` +
            `workers alive ${live().length}  kills ${kills.length}  restarts ${restarts.length} (failed starts ${failedStarts})  ` +
            `redis ${redisServer!.pid() ? 'up' : 'DOWN'}  mongo ${mongoServer!.pid() ? 'up' : 'DOWN'}`,
        );
      }
    })();

    // ---- open-loop load: a fixed total rate whatever the replies do, users in turn ----
    const intervalMs = 1000 / flags.rate;
    for (let n = 0; ; n++) {
      const due = t0 + n * intervalMs;
      if (due >= loadEnd) break;
      await sleep(due - Date.now());
      const user = users[n % users.length]!;
      const message: Sent = { n, chatId: user.chatId, text: `chaos message ${n} from ${user.userId}`, sentAt: Date.now() };
      sent.push(message);
      sends.push(
        user.sendText(message.text).then(
          (r) => void (message.updateId = r.updateId),
          (e: unknown) => void (message.sendError = String(e)),
        ),
      );
    }
    await Promise.all(sends);
    out(`${rel(Date.now())}  load stopped after ${sent.length} messages; waiting for the faults to end and the last replies (up to ${flags.graceS} s)`);

    // ---- settle: every message answered and every inbox empty (then no turn can run again) ----
    const inboxesEmpty = async () => {
      const lengths = await within(Promise.all([...loadChats].map((chat) => redis!.llen(chatKey(chat, 'inbox')))), 2000, null);
      return lengths !== null && lengths.every((l) => l === 0);
    };
    const graceEnd = Date.now() + flags.graceS * 1000;
    let settledAt: number | null = null;
    for (;;) {
      if (faultsDone && answeredCount(realReplies()) === sent.length && (await inboxesEmpty())) {
        settledAt = Date.now();
        break;
      }
      if (Date.now() > graceEnd) break;
      await sleep(500);
    }
    await faults;
    await sleep(TAIL_MS); // a late copy would arrive within this
    reporting = false;
    await progress;
    out(settledAt ? `${rel(settledAt)}  settled: every message answered, every inbox empty` : `${rel(Date.now())}  grace period over without settling`);

    // ---- what Redis and the metrics say, before the cluster stops ----
    const deadLetters = await within(redis.hgetall(`${prefix}:dead-letter-data`), 3000, {} as Record<string, string>);
    const leftovers: Array<{ chat: number; waiting: number; lock: string | null }> = [];
    for (const chat of loadChats) {
      const [waiting, lock] = await within(Promise.all([redis.llen(chatKey(chat, 'inbox')), redis.get(chatKey(chat, 'lock'))]), 2000, [-1, null] as [number, string | null]);
      if (waiting !== 0) leftovers.push({ chat, waiting, lock });
    }
    const q = `${prefix}:telegram-updates`;
    const queueCounts = await within(
      (async () => ({ wait: await redis!.llen(`${q}:wait`), active: await redis!.llen(`${q}:active`), delayed: await redis!.zcard(`${q}:delayed`), failed: await redis!.zcard(`${q}:failed`) }))(),
      3000,
      null,
    );
    // Model tokens charged per person today (USER_DAILY_TOKEN_BUDGET): a limit note instead of a
    // reply means a person ran out, e.g. because re-run turns were charged again.
    const tokensByPerson = await within(
      (async () => {
        const keys = await redis!.keys(`${prefix}:limit:*:t:*`);
        return keys.length ? (await redis!.mget(...keys)).map(Number) : [];
      })(),
      3000,
      [] as number[],
    );
    const metricsText = await within(
      fetch(c.metricsUrl).then((r) => r.text()),
      5000,
      '',
    );
    const skippedDeliveries = Object.values(metricSum(metricsText, 'innertalk_deliveries_skipped_total')).reduce((a, b) => a + b, 0);
    const limited = Object.fromEntries(Object.entries(metricSum(metricsText, 'innertalk_limited_messages_total')).map(([k, v]) => [/limit="([^"]*)"/.exec(k)?.[1] ?? k, v]));
    const processed = Object.fromEntries(Object.entries(metricSum(metricsText, 'innertalk_updates_processed_total')).map(([k, v]) => [/outcome="([^"]*)"/.exec(k)?.[1] ?? k, v]));

    supervising = false;
    await supervisor;
    const workerLogs = c.workers.map((w) => ({ name: w.name, pid: w.pid, file: w.logFile }));
    const ingressExit = c.ingress.exitCode();
    await c.stop();
    cluster = undefined;

    // ---- analysis ----
    const replies = botReplies(emu).filter((r) => loadChats.has(r.chatId));
    const byText = new Map<string, Reply[]>();
    for (const r of replies) byText.set(r.text, [...(byText.get(r.text) ?? []), r]);
    const expectedTexts = new Set(sent.map((s) => expectedReply(s.text)));
    const handledBy = new Map<number, string[]>();
    for (const w of workerLogs) {
      let lines: ReturnType<typeof jsonLines> = [];
      try {
        lines = jsonLines(fs.readFileSync(w.file, 'utf8'));
      } catch {
        continue;
      }
      for (const l of lines) {
        if (l.msg !== 'update handled' || typeof l.updateId !== 'number') continue;
        handledBy.set(l.updateId, [...(handledBy.get(l.updateId) ?? []), `${w.name}:${String(l.outcome)}`]);
      }
    }
    const deadLetterUpdates = new Set<number>();
    for (const raw of Object.values(deadLetters)) {
      try {
        for (const id of (JSON.parse(raw) as { updateIds?: number[] }).updateIds ?? []) deadLetterUpdates.add(id);
      } catch {
        // unreadable record: counted below by its key anyway
      }
    }

    const lost: Sent[] = [];
    const duplicated: Array<{ s: Sent; got: Reply[] }> = [];
    let misrouted = 0;
    const delays: Array<{ s: Sent; ms: number }> = [];
    for (const s of sent) {
      const got = byText.get(expectedReply(s.text)) ?? [];
      if (got.length === 0) lost.push(s);
      if (got.length > 1) duplicated.push({ s, got });
      if (got.some((r) => r.chatId !== s.chatId)) misrouted++;
      if (got[0]) delays.push({ s, ms: got[0].at - s.sentAt });
    }
    // Per-chat order: a message whose first reply came before the first reply of an earlier message of the same chat.
    let outOfOrder = 0;
    const lastReplyAt = new Map<number, number>();
    for (const s of sent) {
      const at = byText.get(expectedReply(s.text))?.[0]?.at;
      if (at === undefined) continue;
      if (at < (lastReplyAt.get(s.chatId) ?? 0)) outOfOrder++;
      lastReplyAt.set(s.chatId, Math.max(at, lastReplyAt.get(s.chatId) ?? 0));
    }
    const notices = replies.filter((r) => isNotice(r.text)).length;
    const deadLetterNotices = replies.filter((r) => r.text === DEAD_LETTER_NOTICE);
    const limitNotices = replies.filter((r) => LIMIT_NOTICES.has(r.text)).length;
    const other = replies.filter((r) => !isNotice(r.text) && r.text !== DEAD_LETTER_NOTICE && !LIMIT_NOTICES.has(r.text) && !expectedTexts.has(r.text));
    const otherTexts = new Map<string, number>();
    for (const r of other) otherTexts.set(r.text.slice(0, 60), (otherTexts.get(r.text.slice(0, 60)) ?? 0) + 1);
    const sendErrors = sent.filter((s) => s.sendError).length;
    const delayMs = delays.map((d) => d.ms);
    // Worst reply time by when the message was sent (10 s windows of the load): shows which fault
    // a slow reply belongs to.
    const windowS = 10;
    const maxDelayByWindow: number[] = Array.from({ length: Math.ceil(flags.durationS / windowS) }, () => 0);
    for (const d of delays) {
      const i = Math.min(maxDelayByWindow.length - 1, Math.floor((d.s.sentAt - t0) / (windowS * 1000)));
      maxDelayByWindow[i] = Math.max(maxDelayByWindow[i] ?? 0, d.ms);
    }
    const slowest = delays.reduce<{ s: Sent; ms: number } | null>((m, d) => (!m || d.ms > m.ms ? d : m), null);

    const ourKills = kills.filter((k) => k.ours);
    const duplicateDetails = duplicated.map(({ s, got }) => {
      const first = got[0]!.at;
      const repeat = got[1]!.at;
      // The documented window: Telegram accepted the first copy, then the worker died before the
      // delivery ledger recorded it. The kill closest after the first copy is the suspect.
      const suspect = kills.filter((k) => k.at >= first - 200 && k.at <= repeat).sort((a, b) => a.at - b.at)[0];
      const redisBetween = redisEvents.downAt !== undefined && redisEvents.downAt >= first - 200 && redisEvents.downAt <= repeat;
      const handlers = s.updateId !== undefined ? (handledBy.get(s.updateId) ?? []) : [];
      // That window, as far as this run can tell: exactly one repeat, a worker killed within a
      // second after the first copy reached Telegram, and that worker never finished the turn
      // (no "update handled" line of its own for the update).
      const inLedgerWindow =
        got.length === 2 && suspect !== undefined && suspect.at - first <= LEDGER_WINDOW_MS && !handlers.some((h) => h.startsWith(`${suspect.worker}:`)) && !redisBetween;
      return {
        n: s.n,
        chat: s.chatId,
        update_id: s.updateId ?? null,
        copies: got.length,
        sent_at_s: relS(s.sentAt),
        copies_at_s: got.map((r) => relS(r.at)),
        killed: suspect ? { worker: suspect.worker, pid: suspect.pid, at_s: relS(suspect.at), after_first_copy_ms: suspect.at - first, by_us: suspect.ours } : null,
        redis_restart_between: redisBetween,
        handled_by: handlers,
        in_ledger_window: inLedgerWindow,
      };
    });
    const lostDetails = lost.slice(0, 20).map((s) => ({
      n: s.n,
      chat: s.chatId,
      update_id: s.updateId ?? null,
      sent_at_s: relS(s.sentAt),
      send_error: s.sendError ?? null,
      dead_letter: s.updateId !== undefined && deadLetterUpdates.has(s.updateId),
      still_waiting_in_inbox: leftovers.some((l) => l.chat === s.chatId),
      chat_got_limit_notice: replies.some((r) => r.chatId === s.chatId && LIMIT_NOTICES.has(r.text)),
      handled_by: s.updateId !== undefined ? (handledBy.get(s.updateId) ?? []) : [],
    }));

    out('');
    out('==== results ====');
    out(`sent ${sent.length} (send errors ${sendErrors}); answered ${sent.length - lost.length}; lost ${lost.length}; duplicates ${duplicated.length}; misrouted ${misrouted}`);
    out(`"I need a moment" or contacts notes ${notices}; dead-letter apologies ${deadLetterNotices.length}; dead letters in Redis ${Object.keys(deadLetters).length}; limit notices ${limitNotices}; other bot messages ${other.length}`);
    for (const [text, count] of otherTexts) out(`  other bot message ×${count}: ${JSON.stringify(text)}`);
    out(`reply time (sent → reply at the emulator): p50 ${percentile(delayMs, 50)} / p99 ${percentile(delayMs, 99)} / max ${max(delayMs)} ms${slowest ? ` (message ${slowest.s.n}, sent at ${rel(slowest.s.sentAt)})` : ''}`);
    out(`worst reply time by 10 s window of sending: ${maxDelayByWindow.map((ms, i) => `${i * windowS}–${(i + 1) * windowS} s: ${ms}`).join(', ')}`);
    out(`worker kills ${ourKills.length}, exits on their own ${kills.length - ourKills.length}, restarts ${restarts.length} (start p50 ${percentile(restarts.map((r) => r.startMs), 50)} ms, failed starts ${failedStarts}), fewest alive after a kill ${minAlive}`);
    if (redisEvents.downAt) out(`Redis ${flags.redisSignal} at ${rel(redisEvents.downAt)}, back at ${redisEvents.upAt ? rel(redisEvents.upAt) : '—'}`);
    if (mongoEvents.downAt) out(`MongoDB ${flags.mongoSignal} at ${rel(mongoEvents.downAt)}, back at ${mongoEvents.upAt ? rel(mongoEvents.upAt) : '—'}`);
    out(`deliveries the ledger did not repeat (retried turns): ${skippedDeliveries}; updates processed by outcome: ${JSON.stringify(processed)}`);
    for (const d of duplicateDetails) out(`DUPLICATE ${JSON.stringify(d)}`);
    for (const l of lostDetails) out(`LOST ${JSON.stringify(l)}`);
    if (leftovers.length) out(`inboxes not empty at the end: ${JSON.stringify(leftovers.slice(0, 20))}`);
    if (ingressExit !== null) out(`the ingress exited during the run (code ${ingressExit})`);
    out(`run took ${((Date.now() - startedRun) / 1000).toFixed(1)} s (cleanup follows)`);

    const result = {
      sent: sent.length,
      answered: sent.length - lost.length,
      lost: lost.length,
      duplicates: duplicated.length,
      duplicates_in_ledger_window: duplicateDetails.filter((d) => d.in_ledger_window).length,
      max_delay_ms: max(delayMs),
      reply_ms_p50: percentile(delayMs, 50),
      reply_ms_p99: percentile(delayMs, 99),
      slowest_message: slowest ? { n: slowest.s.n, sent_at_s: relS(slowest.s.sentAt), ms: slowest.ms } : null,
      max_delay_ms_by_10s_of_sending: maxDelayByWindow,
      misrouted,
      out_of_order: outOfOrder,
      wait_notices: notices,
      dead_letter_notices: deadLetterNotices.length,
      dead_letters: Object.keys(deadLetters).length,
      limit_notices: limitNotices,
      person_tokens_today_max: max(tokensByPerson),
      limited_by_person_limits: limited,
      other_bot_messages: other.length,
      send_errors: sendErrors,
      settled: settledAt !== null,
      settle_after_load_ms: settledAt !== null ? settledAt - loadEnd : null,
      worker_kills: ourKills.length,
      worker_kill_times_s: ourKills.map((k) => relS(k.at)),
      worker_exits_on_their_own: kills.length - ourKills.length,
      worker_restarts: restarts.length,
      worker_failed_starts: failedStarts,
      worker_start_ms_p50: percentile(restarts.map((r) => r.startMs), 50),
      workers_alive_min: minAlive,
      redis_restart_at_s: redisEvents.downAt !== undefined ? relS(redisEvents.downAt) : null,
      redis_down_ms: redisEvents.downAt !== undefined && redisEvents.upAt !== undefined ? redisEvents.upAt - redisEvents.downAt : null,
      redis_signal: flags.redis ? flags.redisSignal : null,
      mongo_down_at_s: mongoEvents.downAt !== undefined ? relS(mongoEvents.downAt) : null,
      mongo_down_ms: mongoEvents.downAt !== undefined && mongoEvents.upAt !== undefined ? mongoEvents.upAt - mongoEvents.downAt : null,
      deliveries_skipped_by_ledger: skippedDeliveries,
      updates_processed: processed,
      queue_at_end: queueCounts,
      inboxes_not_empty: leftovers.length,
      ingress_exited: ingressExit,
      duplicate_details: duplicateDetails,
      lost_details: lostDetails,
      scale: flags.small ? 'small' : 'default',
      workers: flags.workers,
      rate: flags.rate,
      duration_s: flags.durationS,
      kill_every_s: flags.kill ? flags.killEveryS : null,
      run_s: Math.round((Date.now() - startedRun) / 1000),
    };
    await cleanup();
    out(`done in ${((Date.now() - startedRun) / 1000).toFixed(1)} s`);
    out(JSON.stringify(result));
    return lost.length === 0 && duplicated.length === 0 && sent.length > 0 ? 0 : 1;
  } catch (error) {
    await cleanup();
    throw error;
  }
}

runBench('chaos', main);
