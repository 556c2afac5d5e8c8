import { startMockGemini, startMockOpenAI, type MockLlmServer } from './index';
import { CLASSIFIER_PROMPT_START, mockReplyText, RISK_MARKERS } from './reply';

const CLASSIFIER = `${CLASSIFIER_PROMPT_START} for a wellbeing chat. Answer with exactly one word.`;

describe('mockReplyText', () => {
  it('quotes the last user turn for an ordinary prompt, with or without a system prompt', () => {
    const turns = [
      { role: 'user', text: 'first' },
      { role: 'assistant', text: 'Mock reply to: first' },
      { role: 'user', text: 'second' },
    ];
    expect(mockReplyText(turns)).toBe('Mock reply to: second');
    expect(mockReplyText(turns, 'You are Inner Talk')).toBe('Mock reply to: second');
    expect(mockReplyText([], null)).toBe('Mock reply to: ');
  });

  it('answers the safety classifier NONE unless the last user turn carries a risk marker', () => {
    expect(mockReplyText([{ role: 'user', text: 'I want to kill myself' }], CLASSIFIER)).toBe('NONE');
    expect(mockReplyText([{ role: 'user', text: `so tired ${RISK_MARKERS.low}` }], CLASSIFIER)).toBe('LOW');
    expect(mockReplyText([{ role: 'user', text: `${RISK_MARKERS.high} it hurts` }], CLASSIFIER)).toBe('HIGH');
    expect(mockReplyText([{ role: 'user', text: `${RISK_MARKERS.low} ${RISK_MARKERS.high}` }], CLASSIFIER)).toBe('HIGH');
    // Only the last user turn counts, as for ordinary replies.
    expect(mockReplyText([{ role: 'user', text: RISK_MARKERS.high }, { role: 'user', text: 'fine' }], CLASSIFIER)).toBe('NONE');
  });

  it('treats the marker as text, not as a classifier switch, outside the classifier prompt', () => {
    expect(mockReplyText([{ role: 'user', text: RISK_MARKERS.high }], 'You are Inner Talk')).toBe(`Mock reply to: ${RISK_MARKERS.high}`);
  });
});

describe('the classifier answer through both mock APIs', () => {
  const servers: MockLlmServer[] = [];
  afterAll(() => Promise.all(servers.map((s) => s.close())));

  it('answers the classifier in OpenAI shape', async () => {
    const server = await startMockOpenAI();
    servers.push(server);
    const ask = async (text: string) => {
      const response = await fetch(`${server.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: 'Bearer sk-x' },
        body: JSON.stringify({ model: 'gpt-x', messages: [{ role: 'system', content: CLASSIFIER }, { role: 'user', content: text }] }),
      });
      const body = (await response.json()) as { choices: { message: { content: string } }[] };
      return body.choices[0]?.message.content;
    };
    expect(await ask('hello')).toBe('NONE');
    expect(await ask(`hello ${RISK_MARKERS.high}`)).toBe('HIGH');
  });

  it('answers the classifier in Gemini shape (systemInstruction)', async () => {
    const server = await startMockGemini();
    servers.push(server);
    const ask = async (text: string) => {
      const response = await fetch(`${server.url}/v1beta/models/gemini-x:generateContent`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-goog-api-key': 'g-x' },
        body: JSON.stringify({ systemInstruction: { parts: [{ text: CLASSIFIER }] }, contents: [{ role: 'user', parts: [{ text }] }] }),
      });
      const body = (await response.json()) as { candidates: { content: { parts: { text: string }[] } }[] };
      return body.candidates[0]?.content.parts[0]?.text;
    };
    expect(await ask('hello')).toBe('NONE');
    expect(await ask(`hello ${RISK_MARKERS.low}`)).toBe('LOW');
  });
});
