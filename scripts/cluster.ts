/**
 * The main job on one machine: ingress, workers and the metrics app as separate processes.
 *
 * Without TELEGRAM_BOT_TOKEN this is a DEMO: a local Telegram Bot API emulator and mock Gemini and
 * OpenAI APIs stand in for the internet, and an emulated person goes through onboarding (language,
 * 18+, consent, with buttons) and has one conversation turn with the bot.
 * With a token (and an LLM key) it is the real bot, in long-polling mode unless INGRESS_MODE says
 * otherwise. Redis and MongoDB come from REDIS_URL / MONGO_URL (scripts/start.sh provides them).
 *
 *   tsx scripts/cluster.ts [--once] [--workers N]
 */
import { clearClusterData, startLocalCluster, type LocalCluster } from '@inner-talk/local-cluster';
import { encodeAction } from '@inner-talk/conversation';
import { startMockGemini, startMockOpenAI, startTelegramEmulator } from '@inner-talk/mocks';
import { serviceUrls } from '@inner-talk/testkit';

const args = process.argv.slice(2);
const once = args.includes('--once');
const workersArg = args.indexOf('--workers');
const workers = workersArg >= 0 ? Number(args[workersArg + 1]) : 2;
if (!Number.isInteger(workers) || workers < 1) {
  console.error('--workers must be a whole number ≥ 1');
  process.exit(2);
}

const DEMO_TOKEN = '100001:local-demo-token';
const DEMO_PREFIX = 'demo';
const DEMO_DB = 'inner_talk_demo';
const line = (s = '') => process.stdout.write(`${s}\n`);

async function metricLine(metricsUrl: string, name: string): Promise<string | undefined> {
  const body = await (await fetch(metricsUrl)).text();
  return body.split('\n').find((l) => l.startsWith(name));
}

async function waitForStop(stop: () => Promise<void>): Promise<void> {
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  line('\nstopping (workers finish their jobs first)…');
  await stop();
}

// Every demo starts from nothing: no history, no breaker state or counters from an earlier run.
async function demo(): Promise<void> {
  const { redisUrl, mongoUrl } = serviceUrls();
  line('==================================================================================');
  line(' DEMO MODE: no TELEGRAM_BOT_TOKEN set.');
  line(' A local Telegram Bot API emulator and mock Gemini/OpenAI APIs stand in for the internet;');
  line(' everything else is the real system: ingress, BullMQ on Redis, workers, MongoDB, metrics.');
  line(' For the real bot set TELEGRAM_BOT_TOKEN and LLM_GEMINI_KEYS (see .env.example).');
  line('==================================================================================');
  await clearClusterData(redisUrl, mongoUrl, DEMO_PREFIX, DEMO_DB);
  const emulator = await startTelegramEmulator();
  const latency = { kind: 'lognormal', medianMs: 900, p99Ms: 3000, maxMs: 8000 } as const;
  const gemini = await startMockGemini({ config: { latency } });
  const openai = await startMockOpenAI({ config: { latency } });
  let cluster: LocalCluster | undefined;
  const stop = async () => {
    await cluster?.stop();
    await emulator.close();
    await gemini.close();
    await openai.close();
  };
  try {
    cluster = await startLocalCluster({
      workers,
      redisUrl,
      mongoUrl,
      prefix: DEMO_PREFIX,
      mongoDb: DEMO_DB,
      telegram: { token: DEMO_TOKEN, apiRoot: emulator.apiRoot },
      ingress: { mode: 'polling' },
      llm: [
        { name: 'gemini', api: 'gemini', keys: ['demo-project:demo-gemini-key'], baseUrl: gemini.sdkBaseUrl },
        { name: 'openai', api: 'openai', keys: ['demo-openai-key'], baseUrl: openai.sdkBaseUrl },
      ],
      logLevel: 'info',
    });
    line(`cluster up: ingress (polling the emulator), ${workers} workers, metrics at ${cluster.metricsUrl}`);
    line(`app logs: .run/test-logs/\n`);

    const person = emulator.client(DEMO_TOKEN, { userId: 1001, firstName: 'Demo', languageCode: 'en' });
    // The person's first minute: onboarding with buttons (language, 18+, consent), then a message.
    const steps: Array<{ say: string } | { press: string }> = [
      { say: '/start' },
      { press: encodeAction({ kind: 'language', locale: 'en' }) },
      { press: encodeAction({ kind: 'adult', confirmed: true }) },
      { press: encodeAction({ kind: 'consent', given: true }) },
      { say: 'I feel anxious about my exam tomorrow and cannot sleep.' },
    ];
    for (const step of steps) {
      const sentAt = Date.now();
      if ('say' in step) {
        line(`person → ${step.say}`);
        if (step.say.startsWith('/')) await person.sendCommand(step.say);
        else await person.sendText(step.say);
      } else {
        const offered = (await person.botMessages()).flatMap((m) => m.buttons).find((b) => b.callbackData === step.press);
        line(`person ⇢ [${offered?.text ?? step.press}]`);
        await person.pressButton(step.press);
      }
      const [reply] = await person.waitForBotMessages(1, 30_000);
      line(`bot    → ${reply?.text ?? '(no reply)'}`);
      if (reply?.buttons.length) line(`         buttons: ${reply.buttons.map((b) => `[${b.text}]`).join(' ')}`);
      line(`         (${Date.now() - sentAt} ms end to end)\n`);
    }
    // Give the metrics write of the last turn a moment to land before reading it back.
    await new Promise((resolve) => setTimeout(resolve, 300));
    line('from /metrics (cluster-wide, written by the workers through Redis):');
    line(`  ${(await metricLine(cluster.metricsUrl, 'innertalk_reply_latency_seconds_count')) ?? '(missing)'}`);
    line(`  ${(await metricLine(cluster.metricsUrl, 'innertalk_reply_latency_seconds_sum')) ?? '(missing)'}`);
    line(`  ${(await metricLine(cluster.metricsUrl, 'innertalk_updates_processed_total')) ?? '(missing)'}`);
  } catch (error) {
    await stop();
    throw error;
  }
  if (once) {
    await stop();
    line('\ndemo finished');
    return;
  }
  line(`\nThe cluster keeps running. Talk to it as the emulated person, e.g.:`);
  line(`  curl -s -X POST ${emulator.url}/sendMessage -H 'content-type: application/json' \\`);
  line(`    -d '{"botToken":"${DEMO_TOKEN}","chat":{"id":1001},"from":{"id":1001,"first_name":"Demo"},"text":"hello"}'`);
  line(`  curl -s -X POST ${emulator.url}/getUpdatesHistory -H 'content-type: application/json' -d '{"token":"${DEMO_TOKEN}"}'`);
  line('Press Ctrl-C to stop.');
  await waitForStop(stop);
}

async function real(token: string): Promise<void> {
  const env = process.env;
  const { redisUrl, mongoUrl } = serviceUrls();
  const mode = env.INGRESS_MODE === 'webhook' ? 'webhook' : 'polling';
  if (mode === 'webhook' && !env.WEBHOOK_SECRET) throw new Error('WEBHOOK_SECRET is required with INGRESS_MODE=webhook');
  // Pass the operator's own settings through (timeouts, models, log level…); ours win where the
  // processes must agree (URLs, ports).
  const passThrough = Object.fromEntries(
    Object.entries(env).filter(
      (e): e is [string, string] =>
        e[1] !== undefined &&
        /^(LOG_|LLM_|WEBHOOK_|MAX_BODY|DEDUPE_|SHUTDOWN_|WORKER_CONCURRENCY|TELEGRAM_API_ROOT|TELEGRAM_COOLDOWN_|DATA_ENCRYPTION_|DRAIN_|UPDATE_MAX_ATTEMPTS|COALESCE_|SWEEP_|SAFETY_|SESSION_|USER_|ADMIN_)/.test(e[0]),
    ),
  );
  if (!Object.keys(passThrough).some((k) => /^LLM_[A-Z0-9_]+_KEYS$/.test(k))) throw new Error('Set API keys for the LLM chain, e.g. LLM_GEMINI_KEYS and LLM_OPENAI_KEYS (see .env.example)');
  // Without it the workers would seal with a throwaway key and lose access to everything stored.
  if (!passThrough.DATA_ENCRYPTION_KEYS) throw new Error('Set DATA_ENCRYPTION_KEYS (see .env.example; scripts/start.sh makes one)');
  const cluster = await startLocalCluster({
    workers,
    redisUrl,
    mongoUrl,
    prefix: env.REDIS_PREFIX || 'it',
    mongoDb: env.MONGO_DB || 'inner_talk',
    telegram: { token, apiRoot: env.TELEGRAM_API_ROOT || 'https://api.telegram.org' },
    ingress: mode === 'webhook' ? { mode, secret: env.WEBHOOK_SECRET ?? '', ...(env.WEBHOOK_PATH && { path: env.WEBHOOK_PATH }) } : { mode },
    ...(env.HTTP_PORT && { ingressPort: Number(env.HTTP_PORT) }),
    llm: [], // the chain comes from the LLM_* variables passed through
    extraEnv: passThrough,
  });
  line(`Inner Talk is running: ingress (${mode}) at ${cluster.ingressUrl}, ${workers} workers, metrics at ${cluster.metricsUrl}`);
  line('app logs: .run/test-logs/ — press Ctrl-C to stop.');
  if (once) {
    await cluster.stop();
    return;
  }
  await waitForStop(() => cluster.stop());
}

const token = process.env.TELEGRAM_BOT_TOKEN;
(token ? real(token) : demo()).then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  },
);
