import { parseGatewayEnv } from './config';
import { dataProcessorNames } from './processors';

describe('dataProcessorNames', () => {
  it('names the companies of the configured chains once each, primary first', () => {
    const config = parseGatewayEnv(
      {
        LLM_CHAIN: 'gemini,openai,local',
        LLM_LIGHT_CHAIN: 'openai',
        LLM_GEMINI_KEYS: 'p:k1',
        LLM_OPENAI_KEYS: 'o:k2',
        LLM_LOCAL_KEYS: 'x:k3',
        LLM_LOCAL_API: 'openai',
        LLM_LOCAL_MODEL: 'llama',
        LLM_LOCAL_BASE_URL: 'https://llm.example.org/v1',
      },
      'worker',
    );
    expect(dataProcessorNames(config)).toEqual(['Google (Gemini API)', 'OpenAI', 'llm.example.org']);
  });

  it('names OpenAI for an explicit api.openai.com endpoint too', () => {
    const config = parseGatewayEnv({ LLM_CHAIN: 'openai', LLM_OPENAI_KEYS: 'k', LLM_OPENAI_BASE_URL: 'https://api.openai.com/v1' }, 'worker');
    expect(dataProcessorNames(config)).toEqual(['OpenAI']);
  });
});
