import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { CircuitBreaker, Cooldowns, createGatewayRedis, waitForRedis } from '@inner-talk/gateway-state';
import { clearClusterData, grantConsents, startLocalCluster, type LocalCluster } from '@inner-talk/local-cluster';
import { startMockGemini, startTelegramEmulator, type MockLlmServer, type TelegramEmulator } from '@inner-talk/mocks';
import { QUEUE_NAMES } from '@inner-talk/queue';
import { ClusterMetricsWriter, METRICS, recentSummaryName, type MetricSpec } from '@inner-talk/telemetry';
import { freePort, repoRoot, serviceUrls, uniquePrefix, waitFor } from '@inner-talk/testkit';

/**
 * The deploy/ monitoring files against a real Prometheus (the Debian package; `bash scripts/services.sh
 * up prometheus` installs it): promtool accepts the config, the rules and our /metrics; a Prometheus
 * running deploy/prometheus/prometheus.yml (scrape and evaluation every 1 s, target pointed at this
 * test's metrics app) scrapes the cluster, every Grafana panel query and every alert expression
 * evaluates, the latency percentiles have data, and the alerts fire on the conditions they describe.
 */

const TOKEN = '515151:prometheus-e2e-token';
const SECRET = 'prometheus_e2e_secret_0123456789abcdefghi';
const DEPLOY = path.join(repoRoot(), 'deploy');
const PROMETHEUS_CONFIG = path.join(DEPLOY, 'prometheus', 'prometheus.yml');
const ALERT_RULES = path.join(DEPLOY, 'prometheus', 'alerts.yml');
const DASHBOARD = path.join(DEPLOY, 'grafana', 'dashboards', 'inner-talk.json');
const REQUIRED_ALERTS = ['ReplyLatencyP95High', 'LlmBreakerOpen', 'QueueBacklogGrowing', 'DeadLetters', 'NoWorkerAlive', 'MetricsTargetDown'];
const SLOW_LLM_MS = 3_200;

const PROMETHEUS_BIN = process.env.PROMETHEUS_BIN || 'prometheus';
const PROMTOOL_BIN = process.env.PROMTOOL_BIN || 'promtool';

function run(bin: string, args: string[], input?: string) {
  const result = spawnSync(bin, args, { encoding: 'utf8', input, timeout: 30_000 });
  if (result.error) {
    throw new Error(`${bin} could not run (${result.error.message}). Install Prometheus with: bash scripts/services.sh up prometheus`);
  }
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

interface PromResult {
  metric: Record<string, string>;
  value: [number, string];
}

interface PrometheusServer {
  url: string;
  logs(): string;
  stop(): Promise<void>;
}

/**
 * Prometheus under a tiny sh that kills it when its stdin closes: on stop(), and also when this
 * test process dies, so no Prometheus outlives the test run.
 */
async function startPrometheus(configFile: string, dataDir: string): Promise<PrometheusServer> {
  const port = await freePort();
  const args = [`--config.file=${configFile}`, `--storage.tsdb.path=${dataDir}`, `--web.listen-address=127.0.0.1:${port}`];
  const child: ChildProcess = spawn('/bin/sh', ['-c', '"$@" & pid=$!; read -r _; kill "$pid" 2>/dev/null; wait "$pid"', 'prometheus-guard', PROMETHEUS_BIN, ...args], {
    stdio: ['pipe', 'pipe', 'pipe'],
    detached: true,
  });
  let output = '';
  child.stdout?.on('data', (c: Buffer) => (output = (output + c.toString()).slice(-20_000)));
  child.stderr?.on('data', (c: Buffer) => (output = (output + c.toString()).slice(-20_000)));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = `http://127.0.0.1:${port}`;
  const server: PrometheusServer = {
    url,
    logs: () => output,
    async stop() {
      child.stdin?.end();
      const timer = setTimeout(() => {
        try {
          process.kill(-child.pid!, 'SIGKILL');
        } catch {
          // gone
        }
      }, 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
  try {
    await waitFor(async () => (await fetch(`${url}/-/ready`)).status === 200, { timeoutMs: 20_000, message: 'Prometheus ready' });
  } catch (error) {
    await server.stop();
    throw new Error(`${(error as Error).message}\n${output}`, { cause: error });
  }
  return server;
}

describe('deploy/ monitoring against a real Prometheus', () => {
  const { redisUrl, mongoUrl } = serviceUrls();
  const prefix = uniquePrefix('prom');
  let tmp: string | undefined;
  let emulator: TelegramEmulator | undefined;
  let gemini: MockLlmServer | undefined;
  let cluster: LocalCluster | undefined;
  let prometheus: PrometheusServer | undefined;
  let gatewayRedis: Redis | undefined;
  let ruleCount = 0;

  afterAll(async () => {
    await prometheus?.stop();
    await cluster?.stop();
    await emulator?.close();
    await gemini?.close();
    gatewayRedis?.disconnect();
    await clearClusterData(redisUrl, mongoUrl, prefix, prefix);
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  const query = async (expr: string, time?: number): Promise<PromResult[]> => {
    const params = new URLSearchParams({ query: expr, ...(time !== undefined && { time: String(time) }) });
    const response = await fetch(`${prometheus!.url}/api/v1/query?${params}`);
    const body = (await response.json()) as { status: string; error?: string; data?: { resultType: string; result: PromResult[] | [number, string] } };
    if (body.status !== 'success') throw new Error(`query failed: ${expr}: ${body.error}`);
    const data = body.data!;
    if (data.resultType === 'scalar') return [{ metric: {}, value: data.result as [number, string] }];
    return data.result as PromResult[];
  };
  const scalar = async (expr: string): Promise<number | undefined> => {
    const [first] = await query(expr);
    return first ? Number(first.value[1]) : undefined;
  };
  const metricsText = async () => (await fetch(cluster!.metricsUrl)).text();

  it('promtool accepts the deploy config and its alert rules', () => {
    const config = run(PROMTOOL_BIN, ['check', 'config', PROMETHEUS_CONFIG]);
    expect(config).toMatchObject({ status: 0 });
    expect(config.output).toContain('SUCCESS');
    const rules = run(PROMTOOL_BIN, ['check', 'rules', ALERT_RULES]);
    expect(rules).toMatchObject({ status: 0 });
    ruleCount = Number(/SUCCESS: (\d+) rules found/.exec(rules.output)?.[1]);
    expect(ruleCount).toBeGreaterThanOrEqual(REQUIRED_ALERTS.length);
  });

  it('scrapes the cluster; every panel query and alert expression evaluates; percentiles have data; alerts fire', async () => {
    expect(ruleCount).toBeGreaterThan(0); // the promtool test ran first

    // ---- the cluster, and Prometheus running the deploy config against its metrics app ----
    emulator = await startTelegramEmulator();
    gemini = await startMockGemini({ config: { latency: { kind: 'fixed', ms: 100 } } });
    cluster = await startLocalCluster({
      workers: 1,
      redisUrl,
      mongoUrl,
      prefix,
      mongoDb: prefix,
      telegram: { token: TOKEN, apiRoot: emulator.apiRoot },
      ingress: { mode: 'webhook', secret: SECRET, register: true },
      llm: [{ name: 'gemini', api: 'gemini', keys: ['prom-gemini-key'], baseUrl: gemini.sdkBaseUrl }],
    });
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'inner-talk-prometheus-'));
    const target = new URL(cluster.metricsUrl).host;
    let config = fs.readFileSync(PROMETHEUS_CONFIG, 'utf8');
    for (const [from, to] of [
      ['scrape_interval: 15s', 'scrape_interval: 1s'],
      ['evaluation_interval: 15s', 'evaluation_interval: 1s'],
      ['"metrics:9464"', `"${target}"`],
    ] as const) {
      expect(config).toContain(from); // the deploy config changed shape: adapt this test
      config = config.replace(from, to);
    }
    fs.writeFileSync(path.join(tmp, 'prometheus.yml'), config);
    fs.copyFileSync(ALERT_RULES, path.join(tmp, 'alerts.yml')); // rule_files are relative to the config
    prometheus = await startPrometheus(path.join(tmp, 'prometheus.yml'), path.join(tmp, 'data'));
    await waitFor(async () => (await scalar('up{job="inner-talk"}')) === 1, { timeoutMs: 15_000, message: `Prometheus scraped the metrics app\n${prometheus.logs()}` });

    // ---- workload: fast replies first, then slow ones (p95 above 3 s) ----
    const users = [8101, 8102, 8103, 8104, 8105].map((userId) => emulator!.client(TOKEN, { userId, languageCode: 'en' }));
    await grantConsents(mongoUrl, prefix, 'en', users.map((u) => u.userId));
    let sent = 0;
    const talk = async (clients: typeof users, label: string) => {
      await Promise.all(clients.map((c, i) => c.sendText(`${label} message ${i}`)));
      sent += clients.length;
      await Promise.all(clients.map((c) => c.waitForBotMessages(1, 20_000)));
      // Prometheus has a sample with everything counted.
      await waitFor(async () => (await scalar('sum(innertalk_updates_processed_total)')) === sent, { timeoutMs: 15_000, message: `Prometheus saw ${sent} updates` });
    };
    await talk(users.slice(0, 2), 'warm-up');
    await new Promise((resolve) => setTimeout(resolve, 1_500)); // a few samples before the increase
    await talk(users.slice(0, 3), 'fast');
    gemini.configure({ latency: { kind: 'fixed', ms: SLOW_LLM_MS } });
    await talk(users.slice(3), 'slow');
    gemini.configure({ latency: { kind: 'fixed', ms: 100 } });

    expect(await scalar('up{job="inner-talk"}')).toBe(1);

    // ---- every Grafana panel query evaluates; percentile panels return numbers ----
    const dashboard = JSON.parse(fs.readFileSync(DASHBOARD, 'utf8')) as { panels: Array<{ title: string; panels?: unknown[]; targets?: Array<{ expr: string }> }> };
    const panels = dashboard.panels.flatMap((p) => [p, ...((p.panels ?? []) as typeof dashboard.panels)]);
    const exprs = panels.flatMap((p) => (p.targets ?? []).map((t) => ({ panel: p.title, expr: t.expr })));
    expect(exprs.length).toBeGreaterThanOrEqual(20);
    const at = Date.now() / 1000;
    const problems: string[] = [];
    for (const { panel, expr } of exprs) {
      expect(expr).not.toMatch(/\$/); // Grafana variables would not evaluate here (nor in alerts)
      try {
        const result = await query(expr, at);
        const percentile = /histogram_quantile|_recent_seconds/.test(expr);
        if (percentile && !result.some((r) => Number.isFinite(Number(r.value[1])))) problems.push(`${panel}: ${expr}: no finite value (${JSON.stringify(result)})`);
      } catch (error) {
        problems.push(`${panel}: ${(error as Error).message}`);
      }
    }
    expect(problems).toEqual([]);
    // Every metric family the metrics app serves is on the dashboard.
    const families = [...(await metricsText()).matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1]!);
    expect(families.length).toBeGreaterThan(15);
    const allExprs = exprs.map((e) => e.expr).join('\n');
    const recentSummaries = (Object.values(METRICS) as MetricSpec[]).flatMap((s) => (s.kind === 'histogram' && s.recentQuantiles?.length ? [recentSummaryName(s)] : []));
    // The recent-window summaries are for /metrics readers; the reply latency one is on the dashboard too.
    const missing = families.filter((f) => !allExprs.includes(f) && !(recentSummaries.includes(f) && f !== 'innertalk_reply_latency_recent_seconds'));
    expect(missing).toEqual([]);

    // ---- the recent-window quantiles on /metrics agree with Prometheus' own histogram_quantile ----
    // (every observation of this test lies inside the 5-minute window, so both see the same buckets)
    for (const q of ['0.5', '0.95', '0.99']) {
      const ours = await query(`innertalk_reply_latency_recent_seconds{kind="message",quantile="${q}"}`, at);
      const promql = await query(`histogram_quantile(${q}, sum by (le) (innertalk_reply_latency_seconds_bucket{kind="message"}))`, at);
      expect(ours).toHaveLength(1);
      expect(Number(ours[0]!.value[1])).toBeCloseTo(Number(promql[0]!.value[1]), 9);
    }
    expect(Number((await query('innertalk_reply_latency_recent_seconds{kind="message",quantile="0.99"}', at))[0]!.value[1])).toBeGreaterThan(3);

    // ---- every alert rule is loaded, evaluates without error ----
    type Rule = { name: string; query: string; type: string; health: string; lastError?: string; lastEvaluation: string };
    const rules = async (): Promise<Rule[]> => {
      const body = (await (await fetch(`${prometheus!.url}/api/v1/rules`)).json()) as { data: { groups: Array<{ rules: Rule[] }> } };
      return body.data.groups.flatMap((g) => g.rules);
    };
    const loaded = await rules();
    expect(loaded).toHaveLength(ruleCount);
    expect(loaded.filter((r) => r.type === 'alerting').map((r) => r.name)).toEqual(expect.arrayContaining(REQUIRED_ALERTS));
    for (const rule of loaded) await expect(query(rule.query, at)).resolves.toBeDefined();
    await waitFor(async () => (await rules()).every((r) => r.health === 'ok' && !r.lastError && !r.lastEvaluation.startsWith('0001')), {
      timeoutMs: 10_000,
      message: 'every rule evaluated without error',
    });

    // ---- the alerts fire on what they describe ----
    gatewayRedis = createGatewayRedis(redisUrl);
    expect(await waitForRedis(gatewayRedis)).toBe(true);
    await new CircuitBreaker({ redis: gatewayRedis, prefix }).forceOpen('provider:gemini', 10 * 60_000);
    await new Cooldowns({ redis: gatewayRedis, prefix }).setCooldownFor('gemini#1', 10 * 60_000, 'rate_limited');
    const queue = new Queue(QUEUE_NAMES.updates, { connection: { url: redisUrl }, prefix });
    try {
      await queue.add('update', { not: 'an update' }, { jobId: 'bad-job-1' }); // unrecoverable: a dead letter
      await waitFor(async () => (await scalar('sum(innertalk_queue_dead_letters)')) === 1, { timeoutMs: 15_000, message: 'a dead letter in Prometheus' });
      expect(await cluster.workers[0]!.stop('SIGTERM', 20_000)).toBe(0);
      await queue.addBulk(Array.from({ length: 25 }, (_, i) => ({ name: 'update', data: { backlog: i }, opts: { jobId: `backlog-${i}` } })));
    } finally {
      await queue.close();
    }
    // Families that only appear with traffic this test does not cause, so promtool lints them too.
    await new ClusterMetricsWriter(gatewayRedis, prefix).record([
      { spec: METRICS.llmLimiterRejections, labels: { provider: 'gemini', reason: 'rpm' } },
      { spec: METRICS.llmFallbacks, labels: { provider: 'openai' } },
      { spec: METRICS.waitNotices },
    ]);

    const active = async () => {
      const body = (await (await fetch(`${prometheus!.url}/api/v1/alerts`)).json()) as { data: { alerts: Array<{ labels: Record<string, string>; state: string }> } };
      return body.data.alerts.filter((a) => a.state === 'pending' || a.state === 'firing');
    };
    const expected = ['ReplyLatencyP95High', 'LlmBreakerOpen', 'DeadLetters', 'NoWorkerAlive', 'QueueBacklogGrowing'];
    await waitFor(async () => {
      const names = new Set((await active()).map((a) => a.labels.alertname));
      return expected.every((name) => names.has(name));
    }, {
      timeoutMs: 15_000,
      message: `alerts ${expected.join(', ')} pending or firing`,
    }).catch(async (error: unknown) => {
      throw new Error(`${(error as Error).message}; active: ${JSON.stringify(await active())}`, { cause: error });
    });
    expect((await active()).find((a) => a.labels.alertname === 'LlmBreakerOpen')?.labels.provider).toBe('gemini');

    // ---- promtool lints /metrics with every family present ----
    const text = await metricsText();
    expect(text).toContain('innertalk_llm_breaker_state{provider="gemini"} 2');
    expect(text).toContain('innertalk_llm_key_cooldowns{provider="gemini",reason="rate_limited"} 1');
    const lint = run(PROMTOOL_BIN, ['check', 'metrics'], text);
    expect(lint).toEqual({ status: 0, output: '' });

    // ---- and the metrics app itself going away is noticed ----
    await cluster.metrics.stop('SIGTERM', 10_000);
    await waitFor(async () => (await active()).some((a) => a.labels.alertname === 'MetricsTargetDown'), { timeoutMs: 15_000, message: 'MetricsTargetDown pending' });
  });
});
