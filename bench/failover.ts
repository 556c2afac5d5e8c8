/**
 * Failover benchmark: the whole cluster (ingress, N workers, metrics as separate processes) under a
 * steady load of emulated Telegram users, with mock Gemini as the primary and mock OpenAI as the
 * fallback. The primary dies at --kill-at and comes back at --restore-at. Measures what people saw
 * and how the gateway switched, from the emulator's record and the workers' own log lines.
 *
 *   pnpm bench:failover [--workers 3] [--users 20] [--rate 15] [--duration 40] [--kill-at 10]
 *                       [--restore-at 25] [--open-ms 3000] [--grace 20] [--latency-median 400]
 *                       [--latency-p99 1200] [--kill-mode close|refuse|error|hang] [--primary-timeout-ms 20000]
 *
 * Kill modes: `close` (default) stops the primary's listener and drops its open connections, like a
 * dead process: calls in flight break, new ones are refused (ECONNREFUSED); restoring starts a new
 * mock on the same port. `refuse`/`error`/`hang` keep the server and switch the mock's standing
 * fault (`down: true` with that `downMode`); calls already in flight then still complete.
 *
 * Needs Redis and MongoDB: `bash scripts/services.sh up` (REDIS_URL / MONGO_URL or the default ports).
 * The last line of output is one JSON object with the results; see bench/README.md.
 */
import { Redis } from 'ioredis';
import { clearClusterData, grantConsents, startLocalCluster, type LocalCluster } from '@inner-talk/local-cluster';
import { startMockGemini, startMockOpenAI, startTelegramEmulator, type LatencySpec, type MockDownMode, type MockLlmServer, type TelegramEmulator, type TelegramUserClient } from '@inner-talk/mocks';
import { serviceUrls, uniquePrefix } from '@inner-talk/testkit';
import { max, percentile, round, summary } from './lib/stats';
import { describeIncidents, mergeEvents, propagation, readWorkerEvents, type BreakerIncident } from './lib/worker-logs';
import { flagList, numberFlag, parseFlagArgs, type FlagTable } from './lib/flags';
import { runBench, sleep, out, expectedReply, type SentMessage, type ReceivedReply } from './lib/run';

// ---- flags -------------------------------------------------------------------------------------

type KillMode = 'close' | MockDownMode;

interface Flags {
  workers: number;
  users: number;
  rate: number;
  durationS: number;
  killAtS: number;
  restoreAtS: number;
  openMs: number;
  graceS: number;
  latencyMedianMs: number;
  latencyP99Ms: number;
  killMode: KillMode;
  primaryTimeoutMs: number;
}

const DEFAULTS: Flags = {
  workers: 3,
  users: 20,
  rate: 15,
  durationS: 40,
  killAtS: 10,
  restoreAtS: 25,
  openMs: 3000,
  graceS: 20,
  latencyMedianMs: 400,
  latencyP99Ms: 1200,
  killMode: 'close',
  primaryTimeoutMs: 20_000,
};

const FLAGS: FlagTable<Flags, 'int' | 'num' | 'mode'> = {
  workers: ['workers', 'int'],
  users: ['users', 'int'],
  rate: ['rate', 'num'],
  duration: ['durationS', 'num'],
  'kill-at': ['killAtS', 'num'],
  'restore-at': ['restoreAtS', 'num'],
  'open-ms': ['openMs', 'num'],
  grace: ['graceS', 'num'],
  'latency-median': ['latencyMedianMs', 'num'],
  'latency-p99': ['latencyP99Ms', 'num'],
  'kill-mode': ['killMode', 'mode'],
  'primary-timeout-ms': ['primaryTimeoutMs', 'num'],
};

function usage(problem: string): never {
  console.error(`bench:failover: ${problem}\nflags: ${flagList(FLAGS)} (see bench/README.md)`);
  process.exit(2);
}

function parseFlags(argv: readonly string[]): Flags {
  const flags = parseFlagArgs(argv, DEFAULTS, FLAGS, (kind, value, flag) => {
    if (kind !== 'mode') return numberFlag(value, flag, usage, { integer: kind === 'int' });
    if (!['close', 'refuse', 'error', 'hang'].includes(value)) usage(`--kill-mode must be close, refuse, error or hang`);
    return value as KillMode;
  }, usage);
  if (!(flags.killAtS < flags.restoreAtS && flags.restoreAtS < flags.durationS)) usage('need --kill-at < --restore-at < --duration');
  return flags;
}

// ---- helpers -----------------------------------------------------------------------------------

const TOKEN = '424242:bench-failover-token';
// TEXTS.en.needAMoment of @inner-talk/conversation (not a dependency of the root package). Any other
// text that is not the expected reply counts as a wrong reply anyway, so a changed wording still shows.
const NEED_A_MOMENT = 'I need a moment to gather my thoughts. I will answer you shortly.';
// How TEXTS.en.safetyUnchecked begins: the crisis contacts sent when the classifier cannot run (the
// same kind of interim notice: the real reply follows).
const CONTACTS_NOTE_START = 'I could not check your message properly just now';
const isNotice = (text: string) => text === NEED_A_MOMENT || text.startsWith(CONTACTS_NOTE_START);
const FIRST_USER_ID = 700_001;
const WARMUP_USER_ID = 790_001;


type Sent = SentMessage;
type Reply = ReceivedReply;

/** Bot messages the emulator accepted, in arrival order. */
function botReplies(emulator: TelegramEmulator): Reply[] {
  return emulator
    .apiCalls(TOKEN)
    .filter((c) => c.method === 'sendMessage' && c.status === 200)
    .map((c) => ({ chatId: Number(c.payload.chat_id), text: String(c.payload.text ?? ''), at: c.at }));
}

async function breakerState(redis: Redis, prefix: string, provider: string): Promise<string> {
  try {
    return (await redis.hget(`${prefix}:br:{provider:${provider}}`, 'st')) ?? 'closed';
  } catch {
    return '?';
  }
}

// ---- the run -----------------------------------------------------------------------------------

async function main(): Promise<void> {
  const flags = parseFlags(process.argv.slice(2));
  const { redisUrl, mongoUrl } = serviceUrls();
  const prefix = uniquePrefix('bench_fo');
  const mongoDb = prefix;
  const startedRun = Date.now();
  out(`bench:failover ${new Date().toISOString()}  ${JSON.stringify(flags)}`);
  out(`Redis ${redisUrl}  MongoDB ${mongoUrl}  prefix ${prefix}`);

  const latency: LatencySpec = { kind: 'lognormal', medianMs: flags.latencyMedianMs, p99Ms: flags.latencyP99Ms, maxMs: flags.latencyP99Ms * 3 };
  const fallbackLatency: LatencySpec = { ...latency, medianMs: Math.round(flags.latencyMedianMs * 1.1), p99Ms: Math.round(flags.latencyP99Ms * 1.1) };
  const mockOptions = (seed: number, spec: LatencySpec) => ({ config: { latency: spec, seed }, requestLogSize: 100_000 });

  let emulator: TelegramEmulator | undefined;
  let primary: MockLlmServer | undefined;
  let revived: MockLlmServer | undefined;
  let fallback: MockLlmServer | undefined;
  let cluster: LocalCluster | undefined;
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: 1 });
  redis.on('error', () => undefined);
  let cleaned = false;
  const cleanup = async () => {
    if (cleaned) return;
    cleaned = true;
    await cluster?.stop().catch((e: unknown) => console.error('stopping the cluster:', e));
    await emulator?.close();
    await primary?.close();
    await revived?.close();
    await fallback?.close();
    redis.disconnect();
    await clearClusterData(redisUrl, mongoUrl, prefix, mongoDb).catch((e: unknown) => console.error('cleaning Redis/MongoDB:', e));
  };
  const interrupted = () => {
    out('\ninterrupted: stopping the cluster and cleaning up…');
    void cleanup().finally(() => process.exit(130));
  };
  process.once('SIGINT', interrupted);
  process.once('SIGTERM', interrupted);

  try {
    emulator = await startTelegramEmulator();
    primary = await startMockGemini(mockOptions(11, latency));
    fallback = await startMockOpenAI(mockOptions(22, fallbackLatency));
    const primaryPort = primary.port;
    out(`starting the cluster: ${flags.workers} workers, ingress (polling), metrics…`);
    cluster = await startLocalCluster({
      workers: flags.workers,
      redisUrl,
      mongoUrl,
      prefix,
      mongoDb,
      telegram: { token: TOKEN, apiRoot: emulator.apiRoot },
      ingress: { mode: 'polling' },
      llm: [
        { name: 'gemini', api: 'gemini', keys: ['bench-project:bench-gemini-key'], baseUrl: primary.sdkBaseUrl },
        { name: 'openai', api: 'openai', keys: ['bench-openai-key'], baseUrl: fallback.sdkBaseUrl },
      ],
      logLevel: 'info',
      extraEnv: {
        LLM_BREAKER_FAILURES: '3',
        LLM_BREAKER_OPEN_MS: String(flags.openMs),
        LLM_GEMINI_TIMEOUT_MS: String(flags.primaryTimeoutMs),
        // Each emulated person writes every ~1.3 s: one reply per message (no merging of rapid
        // texts), and no per-person abuse limit, so that every message is one measured answer.
        COALESCE_WINDOW_MS: '0',
        USER_MESSAGES_PER_MINUTE: '1000',
      },
    });
    out(`cluster up in ${((Date.now() - startedRun) / 1000).toFixed(1)} s; worker logs: ${cluster.workers.map((w) => w.logFile).join(', ')}`);

    // Warm-up (not measured): every process loads its code paths and opens its connections.
    const warm = Array.from({ length: flags.workers * 3 }, (_, i) => emulator!.client(TOKEN, { userId: WARMUP_USER_ID + i, languageCode: 'en' }));
    // Onboarding is not what this measures: everyone has consented already.
    await grantConsents(mongoUrl, mongoDb, 'en', [...warm.map((c) => c.userId), ...Array.from({ length: flags.users }, (_, i) => FIRST_USER_ID + i)]);
    await Promise.all(warm.map((c, i) => c.sendText(`warm-up ${i}`)));
    await Promise.all(warm.map((c) => c.waitForBotMessages(1, 30_000)));
    out(`warm-up done (${warm.length} messages answered)`);

    const users: TelegramUserClient[] = Array.from({ length: flags.users }, (_, i) => emulator!.client(TOKEN, { userId: FIRST_USER_ID + i, languageCode: 'en' }));
    const loadChats = new Set(users.map((u) => u.chatId));
    const sent: Sent[] = [];
    const sends: Array<Promise<void>> = [];
    const realReplies = () => {
      const count = new Map<string, number>();
      for (const r of botReplies(emulator!)) if (loadChats.has(r.chatId)) count.set(r.text, (count.get(r.text) ?? 0) + 1);
      return count;
    };

    const t0 = Date.now();
    let killedAt = 0;
    let restoredAt = 0;
    const at = (s: number) => t0 + s * 1000;
    const rel = (t: number) => `+${((t - t0) / 1000).toFixed(2)} s`;

    const kill = (async () => {
      await sleep(at(flags.killAtS) - Date.now());
      killedAt = Date.now();
      if (flags.killMode === 'close') await primary!.close();
      else primary!.configure({ down: true, downMode: flags.killMode });
      out(`${rel(killedAt)}  PRIMARY KILLED (${flags.killMode === 'close' ? 'listener closed, connections dropped, new ones refused' : `mock down, downMode ${flags.killMode}`})`);
    })();
    const restore = (async () => {
      await sleep(at(flags.restoreAtS) - Date.now());
      if (flags.killMode === 'close') revived = await startMockGemini({ ...mockOptions(33, latency), port: primaryPort });
      else primary!.configure({ down: false });
      restoredAt = Date.now();
      out(`${rel(restoredAt)}  PRIMARY RESTORED`);
    })();

    let loadDone = false;
    const progress = (async () => {
      while (!loadDone) {
        await sleep(2000);
        const replies = realReplies();
        const answered = sent.filter((s) => (replies.get(expectedReply(s.text)) ?? 0) > 0).length;
        const p = (revived ?? primary)!.stats();
        out(
          `${rel(Date.now())}  sent ${sent.length}  answered ${answered}  waiting ${sent.length - answered}  ` +
            `gemini ok ${p.byKind.ok} failed ${p.requests - p.byKind.ok}${revived ? ' (revived mock)' : ''}  openai ok ${fallback!.stats().byKind.ok}  ` +
            `breaker gemini: ${await breakerState(redis, prefix, 'gemini')}`,
        );
      }
    })();

    // Open-loop load: messages at a fixed total rate whatever the replies do, users in turn.
    const intervalMs = 1000 / flags.rate;
    const end = at(flags.durationS);
    for (let n = 0; ; n++) {
      const due = t0 + n * intervalMs;
      if (due >= end) break;
      await sleep(due - Date.now());
      const user = users[n % users.length]!;
      const message: Sent = { n, chatId: user.chatId, text: `bench message ${n} from ${user.userId}`, sentAt: Date.now() };
      sent.push(message);
      sends.push(
        user.sendText(message.text).then(
          (r) => void (message.updateId = r.updateId),
          (e: unknown) => void (message.sendError = String(e)),
        ),
      );
    }
    await Promise.all([kill, restore, ...sends]);
    const loadEnd = Date.now();
    out(`${rel(loadEnd)}  load stopped after ${sent.length} messages; grace period up to ${flags.graceS} s for the last replies`);

    const graceEnd = loadEnd + flags.graceS * 1000;
    for (;;) {
      const replies = realReplies();
      if (sent.every((s) => (replies.get(expectedReply(s.text)) ?? 0) > 0) || Date.now() > graceEnd) break;
      await sleep(200);
    }
    await sleep(1500); // a duplicate would come within this
    loadDone = true;
    await progress;

    // ---- stop the apps (flushes their logs), then analyse ----
    const workerFiles = cluster.workers.map((w) => ({ name: w.name, file: w.logFile }));
    await cluster.stop();
    cluster = undefined;

    const replies = botReplies(emulator).filter((r) => loadChats.has(r.chatId));
    const byText = new Map<string, Reply[]>();
    for (const r of replies) byText.set(r.text, [...(byText.get(r.text) ?? []), r]);
    const expectedTexts = new Set(sent.map((s) => expectedReply(s.text)));
    let lost = 0;
    let duplicates = 0;
    let misrouted = 0;
    const replyMs: number[] = [];
    for (const s of sent) {
      const got = byText.get(expectedReply(s.text)) ?? [];
      if (got.length === 0) lost++;
      if (got.length > 1) duplicates++;
      if (got.some((r) => r.chatId !== s.chatId)) misrouted++;
      if (got[0]) replyMs.push(got[0].at - s.sentAt);
    }
    const notices = replies.filter((r) => isNotice(r.text)).length;
    const wrong = replies.filter((r) => !isNotice(r.text) && !expectedTexts.has(r.text)).length;
    const sendErrors = sent.filter((s) => s.sendError).length;
    const userVisibleErrors = lost + duplicates + misrouted + notices + wrong;

    const events = mergeEvents(workerFiles.map((w) => readWorkerEvents(w.name, w.file)));
    const gem = events.incidents.filter((i) => i.breaker === 'provider:gemini');
    const open: BreakerIncident | undefined = gem.find((i) => i.from === 'closed' && i.to === 'open' && i.at >= killedAt);
    const closed = gem.find((i) => i.to === 'closed' && i.at >= restoredAt);
    const outage = events.fallbacks.filter((f) => f.startedAt >= killedAt);
    // The switch time: from the later of the message's first attempt and the kill to the start of the
    // answering attempt. Time a call spent on the primary while it was still healthy is not lost to
    // the failure (it is in `waited_ms_*`, which counts from the first attempt).
    const failover = outage.map((f) => f.startedAt - Math.max(f.startedAt - f.failoverMs, killedAt));
    const waited = outage.map((f) => f.failoverMs);
    // Messages whose primary call was already running when the primary died lost that call's time.
    const inflightAtKill = outage.filter((f) => f.startedAt - f.failoverMs < killedAt);
    const afterKill = outage.filter((f) => f.startedAt - f.failoverMs >= killedAt).map((f) => f.failoverMs);
    const afterOpen = open ? outage.filter((f) => f.startedAt - f.failoverMs >= open.at).map((f) => f.failoverMs) : [];
    const prop = open ? propagation(workerFiles.map((w) => w.name), events, 'gemini', open) : [];
    // Failed primary calls that had ended by the open (their outcome was reported before it). With
    // concurrent calls several fail within the same millisecond, so this can exceed the threshold.
    const failuresBeforeOpen = open ? events.failures.filter((f) => f.provider === 'gemini' && f.startedAt + f.ms >= killedAt && f.startedAt + f.ms <= open.at).length : null;

    // Recovery: the first reply the primary produced after it came back, as the person received it.
    const restoredMock = revived ?? primary;
    const firstPrimaryOk = restoredMock.requests().find((r) => r.kind === 'ok' && r.at >= restoredAt);
    const probeText = firstPrimaryOk ? [...firstPrimaryOk.messages].reverse().find((m) => m.role === 'user')?.text : undefined;
    const recoveredReply = probeText ? byText.get(expectedReply(probeText))?.[0] : undefined;
    const recoveryMs = recoveredReply ? recoveredReply.at - restoredAt : null;

    out('');
    out('==== results ====');
    out(`messages ${sent.length} (send errors ${sendErrors}); answered ${sent.length - lost}; lost ${lost}; duplicates ${duplicates}; misrouted ${misrouted}; wrong replies ${wrong}; "I need a moment" or contacts notes ${notices}`);
    out(`reply time (sent → bot message at the emulator): ${summary(replyMs)}`);
    out(`breaker transitions (provider:gemini), relative to the load start:`);
    for (const l of describeIncidents(gem, t0)) out(`  ${l}`);
    out(`primary killed at ${rel(killedAt)}, restored at ${rel(restoredAt)}`);
    if (open) out(`opened ${open.at - killedAt} ms after the kill; failed primary calls that ended before the open: ${failuresBeforeOpen}`);
    out(`fallback answers after the kill: ${outage.length}; switch time after the failure ${summary(failover)}; waited since the first attempt ${summary(waited)}`);
    out(`  of which ${inflightAtKill.length} had their primary call in flight when it died (failoverMs ${summary(inflightAtKill.map((f) => f.failoverMs))})`);
    out(`  messages begun after the kill: ${summary(afterKill)}; begun after the breaker opened: ${summary(afterOpen)}`);
    out(`per-process propagation (open → start of the worker's last failed primary call before the next transition):`);
    for (const p of prop) out(`  ${p.worker}: ${p.routeMs} ms (${p.callsAfterOpen} primary calls started after the open)`);
    out(`recovery: first reply by the primary reached the person ${recoveryMs ?? '—'} ms after the restore; breaker closed ${closed ? closed.at - restoredAt : '—'} ms after it`);
    out(`run took ${((Date.now() - startedRun) / 1000).toFixed(1)} s (cleanup follows)`);

    const result = {
      messages: sent.length,
      user_visible_errors: userVisibleErrors,
      failover_ms_p50: round(percentile(failover, 50)),
      failover_ms_p99: round(percentile(failover, 99)),
      recovery_ms: recoveryMs,
      answered: sent.length - lost,
      lost,
      duplicates,
      wrong_replies: wrong + misrouted,
      wait_notices: notices,
      send_errors: sendErrors,
      fallback_answers: outage.length,
      failover_ms_max: round(max(failover)),
      waited_ms_p50: round(percentile(waited, 50)),
      waited_ms_p99: round(percentile(waited, 99)),
      waited_ms_max: round(max(waited)),
      inflight_at_kill: inflightAtKill.length,
      failover_ms_p99_begun_after_kill: round(percentile(afterKill, 99)),
      failover_ms_p99_begun_after_open: round(percentile(afterOpen, 99)),
      per_worker_route_ms: Object.fromEntries(prop.map((p) => [p.worker, p.routeMs])),
      per_worker_route_ms_max: round(max(prop.map((p) => p.routeMs))),
      breaker_opened_after_failures: failuresBeforeOpen,
      breaker_open_after_kill_ms: open ? open.at - killedAt : null,
      breaker_closed_after_restore_ms: closed ? closed.at - restoredAt : null,
      breaker_transitions: gem.map((i) => `${i.from}>${i.to}@${((i.at - t0) / 1000).toFixed(2)}`),
      reply_ms_p50: percentile(replyMs, 50),
      reply_ms_p99: percentile(replyMs, 99),
      kill_mode: flags.killMode,
      workers: flags.workers,
      rate: flags.rate,
      duration_s: flags.durationS,
      open_ms: flags.openMs,
    };
    await cleanup();
    out(`done in ${((Date.now() - startedRun) / 1000).toFixed(1)} s`);
    out(JSON.stringify(result));
  } catch (error) {
    await cleanup();
    throw error;
  }
}

runBench('bench:failover', main);
