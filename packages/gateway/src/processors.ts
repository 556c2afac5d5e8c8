import type { GatewayConfig, ProviderRoute } from './config';

/** The companies behind the two APIs we speak natively, by their default endpoints. */
const OPENAI_HOST = 'api.openai.com';

function processorOf(route: ProviderRoute): string {
  if (route.api === 'gemini') return 'Google (Gemini API)';
  const host = route.baseUrl ? new URL(route.baseUrl).hostname : OPENAI_HOST;
  // Any other OpenAI-compatible server is named by its host: that is who receives the messages.
  return host === OPENAI_HOST ? 'OpenAI' : host;
}

/**
 * Who receives a person's messages for processing, in the order of the chains (main, then light),
 * each named once: "Google (Gemini API)", "OpenAI", or the host of another OpenAI-compatible
 * endpoint. The consent text names exactly these, so it follows the configuration.
 */
export function dataProcessorNames(config: Pick<GatewayConfig, 'chain' | 'lightChain'>): string[] {
  return [...new Set([...config.chain, ...config.lightChain].map(processorOf))];
}
