/**
 * A stop never hangs: a worker with a turn that never finishes (the model does not answer) and whose
 * Redis has gone away still exits within SHUTDOWN_GRACE_MS + 5 s of SIGTERM. Before the hard deadline
 * in runApp such workers stayed alive for over 30 minutes: the drain, the metrics flush and the
 * queue close all await Redis without a timeout of their own.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import { MongoClient } from 'mongodb';
import { startMockGemini, startTelegramEmulator, type MockLlmServer, type TelegramEmulator } from '@inner-talk/mocks';
import { freePort, serviceUrls, uniquePrefix, waitFor } from '@inner-talk/testkit';
import { grantConsents, startLocalCluster, type LocalCluster } from './index';

const TOKEN = '271828:shutdown-deadline-token';
const GRACE_MS = 1_000;
/** What runApp allows beyond the drain (SHUTDOWN_CLOSE_MS of @inner-talk/telemetry). */
const SHUTDOWN_CLOSE_MS = 5_000;

async function startPrivateRedis(port: number): Promise<ChildProcess> {
  // Its own Redis, so that this test can take it away without touching anyone else's.
  const redis = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  await waitFor(
    () =>
      new Promise<boolean>((resolve) => {
        const probe = net.connect(port, '127.0.0.1');
        probe.on('connect', () => (probe.destroy(), resolve(true)));
        probe.on('error', () => resolve(false));
      }),
    { timeoutMs: 10_000 },
  );
  return redis;
}

describe('worker stop with a stuck turn and Redis gone', () => {
  let emulator: TelegramEmulator | undefined;
  let gemini: MockLlmServer | undefined;
  let cluster: LocalCluster | undefined;
  let redis: ChildProcess | undefined;
  const prefix = uniquePrefix('deadline');

  afterAll(async () => {
    await cluster?.stop().catch(() => undefined);
    redis?.kill('SIGKILL');
    await emulator?.close();
    await gemini?.close();
    const mongo = new MongoClient(serviceUrls().mongoUrl);
    await mongo.db(prefix).dropDatabase().catch(() => undefined);
    await mongo.close();
  });

  it(`exits within SHUTDOWN_GRACE_MS + ${SHUTDOWN_CLOSE_MS} ms of SIGTERM`, async () => {
    const redisPort = await freePort();
    redis = await startPrivateRedis(redisPort);
    emulator = await startTelegramEmulator();
    // The model never answers within this test: the turn stays in flight.
    gemini = await startMockGemini({ config: { latency: { kind: 'fixed', ms: 600_000 } } });
    const { mongoUrl } = serviceUrls();
    cluster = await startLocalCluster({
      workers: 1,
      redisUrl: `redis://127.0.0.1:${redisPort}`,
      mongoUrl,
      prefix,
      mongoDb: prefix,
      telegram: { token: TOKEN, apiRoot: emulator.apiRoot },
      ingress: { mode: 'polling' },
      llm: [{ name: 'gemini', api: 'gemini', keys: ['deadline:key'], baseUrl: gemini.sdkBaseUrl }],
      workerEnv: { SHUTDOWN_GRACE_MS: String(GRACE_MS), LLM_DEADLINE_MS: '600000', SAFETY_CLASSIFIER_TIMEOUT_MS: '600000' },
    });
    const person = emulator.client(TOKEN, { userId: 7001, languageCode: 'en' });
    await grantConsents(mongoUrl, prefix, 'en', [person.userId]);
    await person.sendText('I cannot sleep again.');
    await waitFor(() => gemini!.stats().requests > 0, { timeoutMs: 20_000 });

    redis.kill('SIGKILL');
    await new Promise((resolve) => redis!.once('exit', resolve));
    const worker = cluster.workers[0]!;
    const started = Date.now();
    // stop() SIGKILLs after its timeout (exit 137): an exit of the worker's own comes before it.
    const code = await worker.stop('SIGTERM', GRACE_MS + SHUTDOWN_CLOSE_MS + 10_000);
    const tookMs = Date.now() - started;
    expect(code).not.toBe(137);
    expect(tookMs).toBeLessThan(GRACE_MS + SHUTDOWN_CLOSE_MS + 1_500);
    expect(worker.logs()).toContain('grace period over');
  }, 90_000);
});
