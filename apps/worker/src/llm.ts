import { createGatewayState, LlmGateway, type CallRecord, type GatewayState } from '@inner-talk/gateway';
import { METRICS, type MetricsRecorder, type Logger, type MetricSample } from '@inner-talk/telemetry';
import type { WorkerEnv } from './env';

/**
 * The worker's LLM gateways (the main chain, and the light chain for simple messages when
 * LLM_LIGHT_CHAIN is set): shared breaker/limiter/cooldown state in Redis, incident lines for every
 * breaker transition this process causes, and per-call metrics (latency, tokens, cost).
 */
export async function buildGateway(env: WorkerEnv, logger: Logger, metrics: MetricsRecorder): Promise<{ gateway: LlmGateway; light: LlmGateway | null; state: GatewayState }> {
  const incidents = logger.child({ component: 'llm-gateway' });
  const state = await createGatewayState({
    redisUrl: env.REDIS_URL,
    prefix: env.REDIS_PREFIX,
    config: env.gateway,
    onTransition: (t) =>
      incidents.warn({ incident: 'breaker', breaker: t.id, from: t.from, to: t.to, reason: t.reason, at: t.at, openUntil: t.openUntil || undefined, source: t.source }, `breaker ${t.id}: ${t.from} → ${t.to}`),
    onRedisError: (e) => incidents.warn({ incident: 'gateway-redis', kind: e.kind }, 'gateway state unavailable in Redis; using local state'),
  });
  const onCall = (call: CallRecord) => {
    const labels = { provider: call.provider, model: call.model };
    const samples: MetricSample[] = [{ spec: METRICS.llmCallLatency, labels: { ...labels, outcome: call.outcome }, valueMs: call.latencyMs }];
    if (call.usage) {
      const u = call.usage;
      for (const [type, n] of [['input', u.inputTokens], ['cached_input', u.cachedInputTokens], ['output', u.outputTokens], ['reasoning', u.reasoningTokens]] as const) {
        if (n > 0) samples.push({ spec: METRICS.llmTokens, labels: { ...labels, type }, by: n });
      }
      if (call.costUsd) samples.push({ spec: METRICS.llmCost, labels, by: call.costUsd });
      if (call.chainIndex > 0) samples.push({ spec: METRICS.llmFallbacks, labels: { provider: call.provider } });
    }
    if (call.outcome !== 'ok') {
      incidents.info({ provider: call.provider, key: call.keyId, outcome: call.outcome, startedAt: call.startedAt, ms: call.latencyMs }, 'provider call failed');
    } else if (call.chainIndex > 0) {
      // failoverMs: what this message lost on the failing providers before the fallback answered.
      incidents.info({ provider: call.provider, chainIndex: call.chainIndex, startedAt: call.startedAt, failoverMs: call.waitedMs }, 'answered by fallback');
    }
    metrics.record(samples).catch(() => undefined);
  };
  countLimiterRejections(state.limiter, metrics);
  const gateway = new LlmGateway({ config: env.gateway, ...state, observer: { onCall } });
  // The cheaper tier shares the state (limits, cooldowns, breakers are per provider name anyway).
  const light = env.gateway.lightChain.length > 0 ? new LlmGateway({ config: { ...env.gateway, chain: env.gateway.lightChain }, ...state, observer: { onCall } }) : null;
  return { gateway, light, state };
}

/**
 * Counts the shared limiter's refusals (innertalk_llm_limiter_rejections_total) without touching the
 * gateway: its limiter scopes are `<provider>|<scope>|<model>`, and only the provider is a label.
 */
export function countLimiterRejections(limiter: GatewayState['limiter'], metrics: MetricsRecorder): void {
  const tryAcquire = limiter.tryAcquire.bind(limiter);
  limiter.tryAcquire = async (scope, request) => {
    const result = await tryAcquire(scope, request);
    if (!result.ok) {
      const provider = scope.split('|')[0] ?? '';
      metrics.record([{ spec: METRICS.llmLimiterRejections, labels: { provider, reason: result.reason } }]).catch(() => undefined);
    }
    return result;
  };
}
