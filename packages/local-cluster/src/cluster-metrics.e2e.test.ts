import { Queue } from 'bullmq';
import { startMockGemini, startTelegramEmulator, type MockLlmServer, type TelegramEmulator } from '@inner-talk/mocks';
import { QUEUE_NAMES } from '@inner-talk/queue';
import { serviceUrls, uniquePrefix, waitFor, type AppProcess } from '@inner-talk/testkit';
import { clearClusterData, grantConsents, startLocalCluster, type LocalCluster } from './index';

/**
 * Counts from N worker processes must add up exactly in the metrics app: a worker killed with
 * SIGKILL keeps what it recorded, a restarted or replacement worker starts nothing from zero,
 * nothing is counted twice. 3 workers; one is SIGKILLed, another restarted with SIGTERM while
 * replies are in flight; the totals are compared with what this test sent and what the emulated
 * Telegram received.
 */

const TOKEN = '424242:cluster-metrics-token';
const SECRET = 'cluster_metrics_secret_0123456789abcdefgh';
const USERS = [7101, 7102, 7103, 7104, 7105];
const LLM_MS = 250;

type Series = Map<string, number>;

async function scrape(url: string): Promise<Series> {
  const body = await (await fetch(url)).text();
  const series: Series = new Map();
  for (const line of body.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const space = line.lastIndexOf(' ');
    series.set(line.slice(0, space), Number(line.slice(space + 1)));
  }
  return series;
}

/** Buckets of one histogram series as [upper bound in seconds, cumulative count], +Inf last. */
function buckets(series: Series, name: string, labels: string): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  const head = `${name}_bucket{${labels}${labels ? ',' : ''}le="`;
  for (const [key, value] of series) {
    if (!key.startsWith(head)) continue;
    const le = key.slice(head.length, -2);
    out.push([le === '+Inf' ? Infinity : Number(le), value]);
  }
  return out.sort((a, b) => a[0] - b[0]);
}

interface Sent {
  text: string;
  chatId: number;
  startedAt: number;
  acceptedAt: number;
  /** When the metrics app had counted it (every reply of its round recorded). */
  countedAt: number;
}

describe('cluster-wide metrics add up exactly across 3 workers, a SIGKILL and a restart', () => {
  const { redisUrl, mongoUrl } = serviceUrls();
  const prefix = uniquePrefix('cmx');
  const mongoDb = prefix;
  let emulator: TelegramEmulator | undefined;
  let gemini: MockLlmServer | undefined;
  let cluster: LocalCluster | undefined;
  const extraWorkers: AppProcess[] = [];

  afterAll(async () => {
    await cluster?.stop();
    await emulator?.close();
    await gemini?.close();
    await clearClusterData(redisUrl, mongoUrl, prefix, mongoDb);
  });

  it('counts every update, reply and Telegram call once, with histogram sums that match the measured latencies', async () => {
    emulator = await startTelegramEmulator();
    gemini = await startMockGemini({ config: { latency: { kind: 'fixed', ms: LLM_MS } } });
    cluster = await startLocalCluster({
      workers: 3,
      redisUrl,
      mongoUrl,
      prefix,
      mongoDb,
      telegram: { token: TOKEN, apiRoot: emulator.apiRoot },
      ingress: { mode: 'webhook', secret: SECRET, register: true },
      llm: [{ name: 'gemini', api: 'gemini', keys: ['cmx-gemini-key'], baseUrl: gemini.sdkBaseUrl }],
    });
    const metricsUrl = cluster.metricsUrl;
    const clients = USERS.map((userId) => emulator!.client(TOKEN, { userId, languageCode: 'en' }));
    await grantConsents(mongoUrl, mongoDb, 'en', USERS);
    const sent: Sent[] = [];
    let round = 0;
    const value = async (key: string) => (await scrape(metricsUrl)).get(key) ?? 0;
    const workersActive = `innertalk_workers_active{queue="${QUEUE_NAMES.updates}"}`;
    const processedOk = 'innertalk_updates_processed_total{outcome="ok"}';

    /** Waits until the metrics app has counted everything sent so far and no job is active. */
    const settle = async (): Promise<void> => {
      await waitFor(async () => (await value(processedOk)) === sent.length, { timeoutMs: 10_000, message: `${sent.length} updates counted` });
      await waitFor(async () => (await value(`innertalk_queue_jobs{queue="${QUEUE_NAMES.updates}",state="active"}`)) === 0, {
        timeoutMs: 10_000,
        message: 'no active jobs',
      });
    };
    /** One message from every user at once; resolves when each has its reply and the metrics app counted them. */
    const sendRound = async (): Promise<void> => {
      round += 1;
      const batch = await Promise.all(
        clients.map(async (client, i) => {
          const text = `round ${round} from user ${USERS[i]}`;
          const startedAt = Date.now();
          await client.sendText(text);
          const message: Sent = { text, chatId: USERS[i]!, startedAt, acceptedAt: Date.now(), countedAt: Infinity };
          sent.push(message);
          return message;
        }),
      );
      await Promise.all(clients.map((c) => c.waitForBotMessages(1, 20_000)));
      await settle();
      const countedAt = Date.now();
      for (const message of batch) message.countedAt = countedAt;
    };
    const handledBy = (worker: AppProcess) => worker.logs().split('\n').filter((l) => l.includes('"update handled"')).length;

    expect(await value(workersActive)).toBe(3);
    const [victim, restarted] = cluster.workers as [AppProcess, AppProcess, AppProcess];

    // Phase 1: all three workers, until the one to be killed has answered something.
    do await sendRound();
    while (handledBy(victim) === 0 && round < 6);
    expect(handledBy(victim)).toBeGreaterThan(0);

    // A crash: SIGKILL, no drain, no goodbye. What it recorded must stay counted.
    victim.kill();
    expect(await victim.waitForExit(10_000)).toBe(128 + 9);
    await waitFor(async () => (await value(workersActive)) === 2, { timeoutMs: 10_000, message: 'the metrics app sees 2 workers' });
    expect(await value(processedOk)).toBe(sent.length);
    await sendRound();

    // A restart while replies are in flight: SIGTERM drains, then the same worker comes back.
    const inFlight = sendRound();
    await waitFor(() => gemini!.stats().inFlight > 0, { timeoutMs: 10_000, message: 'model calls in flight' });
    expect(await restarted.stop('SIGTERM', 20_000)).toBe(0);
    await inFlight;
    // Like a container restart policy: the stopped worker and the killed one come back.
    extraWorkers.push(await cluster.addWorker(), await cluster.addWorker());
    await waitFor(async () => (await value(workersActive)) === 3, { timeoutMs: 10_000, message: 'the metrics app sees 3 workers again' });

    // Phase 3: the new processes add to the same totals.
    for (let i = 0; i < 3; i++) await sendRound();

    const n = sent.length;
    const allWorkers = cluster.workers; // the added ones included
    expect(allWorkers.reduce((total, w) => total + handledBy(w), 0)).toBe(n);
    expect(extraWorkers.some((w) => handledBy(w) > 0)).toBe(true);

    const series = await scrape(metricsUrl);
    const get = (key: string) => series.get(key);

    // Counters: exactly one per update, no other outcome.
    expect(get(processedOk)).toBe(n);
    expect([...series.keys()].filter((k) => k.startsWith('innertalk_updates_processed_total{'))).toEqual([processedOk]);
    expect(get('innertalk_processing_seconds_count{outcome="ok"}')).toBe(n);
    expect(get('innertalk_queue_wait_seconds_count')).toBe(n);

    // The Telegram side agrees: one sendMessage per reply, each timed once by the worker that sent it.
    const replies = emulator.apiCalls(TOKEN).filter((c) => c.method === 'sendMessage');
    expect(replies).toHaveLength(n);
    expect(get('innertalk_telegram_api_seconds_count{method="sendMessage",outcome="ok"}')).toBe(n);
    // Two model calls per message: the crisis classifier, then the reply.
    expect(gemini.stats().requests).toBe(2 * n);
    expect(sumOf(series, 'innertalk_llm_call_seconds_count{')).toBe(2 * n);
    expect([...series.keys()].filter((k) => k.startsWith('innertalk_llm_call_seconds_count{') && !k.includes('outcome="ok"'))).toEqual([]);

    // Reply latency histogram: count, +Inf bucket and buckets consistent; the sum within what was measured.
    const kind = 'kind="message"';
    const count = get(`innertalk_reply_latency_seconds_count{${kind}}`);
    const sum = get(`innertalk_reply_latency_seconds_sum{${kind}}`)!;
    expect(count).toBe(n);
    const bs = buckets(series, 'innertalk_reply_latency_seconds', kind);
    expect(bs.at(-1)).toEqual([Infinity, n]);
    for (let i = 1; i < bs.length; i++) expect(bs[i]![1]).toBeGreaterThanOrEqual(bs[i - 1]![1]);
    // Every observation lies in its bucket, so the sum lies between the sums of the bucket bounds.
    let low = 0;
    let high = 0;
    bs.forEach(([upper, cumulative], i) => {
      const inBucket = cumulative - (i > 0 ? bs[i - 1]![1] : 0);
      if (inBucket === 0) return;
      low += inBucket * (i > 0 ? bs[i - 1]![0] : 0);
      high += inBucket * upper;
    });
    expect(sum).toBeGreaterThanOrEqual(low);
    expect(sum).toBeLessThanOrEqual(high);
    // From outside: each reply took at least from "Telegram accepted the update" to "the reply
    // reached Telegram", and at most from before sending to "the metrics app had counted it".
    let measuredLow = 0;
    let measuredHigh = 0;
    for (const s of sent) {
      const call = replies.find((c) => c.payload.chat_id !== undefined && Number(c.payload.chat_id) === s.chatId && String(c.payload.text).includes(s.text));
      expect(call).toBeDefined();
      measuredLow += Math.max(0, call!.at - s.acceptedAt);
      measuredHigh += s.countedAt - s.startedAt;
    }
    expect(measuredLow).toBeGreaterThan(n * LLM_MS * 0.9);
    expect(sum * 1000).toBeGreaterThanOrEqual(measuredLow - n * 2);
    expect(sum * 1000).toBeLessThanOrEqual(measuredHigh);

    // Nothing is left over in the queue.
    const queue = new Queue(QUEUE_NAMES.updates, { connection: { url: redisUrl }, prefix });
    try {
      const counts = await queue.getJobCounts('waiting', 'active', 'delayed', 'failed');
      expect(counts).toEqual({ waiting: 0, active: 0, delayed: 0, failed: 0 });
    } finally {
      await queue.close();
    }
  });
});

function sumOf(series: Series, head: string): number {
  let total = 0;
  for (const [key, value] of series) if (key.startsWith(head)) total += value;
  return total;
}
