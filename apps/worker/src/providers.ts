import { GeminiChatProvider, OpenAIChatProvider, type ChatProvider } from '@inner-talk/llm';
import type { WorkerEnv } from './env';

/** The one provider this worker talks to (a later change puts the gateway with fallback here). */
export function buildProvider(env: WorkerEnv): ChatProvider {
  if (env.LLM_PROVIDER === 'gemini') {
    return new GeminiChatProvider({ apiKey: env.GEMINI_API_KEY ?? '', model: env.GEMINI_MODEL, baseUrl: env.GEMINI_BASE_URL });
  }
  return new OpenAIChatProvider({ apiKey: env.OPENAI_API_KEY ?? '', model: env.OPENAI_MODEL, baseURL: env.OPENAI_BASE_URL });
}
