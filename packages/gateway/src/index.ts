export { parseGatewayEnv } from './config';
export type { GatewayConfig, ProviderRoute, ApiKeyConfig, Price } from './config';
export { LlmGateway, defaultAdapter, cooldownEnd, nextMidnightIn } from './gateway';
export type { GatewayDeps, GatewayObserver, CallRecord } from './gateway';
export { AllProvidersUnavailableError } from './errors';
export type { ProviderSkip } from './errors';
export { callCostUsd, estimateTokens } from './accounting';
export { createGatewayState } from './state';
export type { GatewayState } from './state';
