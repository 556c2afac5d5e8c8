import { SYSTEM_PROMPT, TEXTS } from './index';
import { command, documentsMentioning, edit, startHarness, stopHarness, type Harness } from './test-harness';

describe('edited messages are checked for crisis risk', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness('edit');
  });
  beforeEach(() => h.llm.reset());
  afterAll(() => stopHarness(h));

  it('answers an edit into a crisis statement with the crisis reply and a text-free risk event, the same on a retry', async () => {
    await h.consents.grantConsent('tg:601', 'en', new Date(h.clock.now));
    const retried = edit('tg:601', 'I want to kill myself');
    const [reply, ...rest] = await h.conversation.handle(retried);
    expect(rest).toEqual([]);
    expect(reply?.text).toContain(TEXTS.en.crisisHigh);
    expect(reply?.text).toContain('988');
    expect(await h.conversation.handle(retried)).toEqual([reply]);
    expect(await h.store.riskEventsOf('tg:601')).toEqual([expect.objectContaining({ level: 'high', sources: ['phrases'] })]);
    // The edit is neither stored nor answered by the chat model.
    expect(await documentsMentioning(h, 'kill myself')).toEqual([]);
    expect(h.llm.requests().some((r) => r.system === SYSTEM_PROMPT)).toBe(false);
  });

  it('uses the model classifier too after consent, and any level of risk gets the crisis reply', async () => {
    await h.consents.grantConsent('tg:602', 'en', new Date(h.clock.now));
    const [high] = await h.conversation.handle(edit('tg:602', 'Everything feels quiet now, I know what I will do [[risk:high]]'));
    expect(high?.text).toContain(TEXTS.en.crisisHigh);
    const [low] = await h.conversation.handle(edit('tg:602', 'everything feels pointless lately [[risk:low]]'));
    expect(low?.text).toContain(TEXTS.en.crisisLow);
    expect((await h.store.riskEventsOf('tg:602')).map((e) => e.level).sort()).toEqual(['high', 'low']);
  });

  it('ignores a harmless edit without a word, storing nothing', async () => {
    await h.consents.grantConsent('tg:603', 'en', new Date(h.clock.now));
    expect(await h.conversation.handle(edit('tg:603', 'I meant Tuesday, not Monday'))).toEqual([]);
    expect(await h.conversation.handle(edit('tg:603', '   '))).toEqual([]);
    expect(await h.store.riskEventsOf('tg:603')).toEqual([]);
    expect(await documentsMentioning(h, 'Tuesday')).toEqual([]);
  });

  it('before consent reads the edit with the phrase list only and stores nothing', async () => {
    await h.conversation.handle(command('tg:604', 'start'));
    const [reply] = await h.conversation.handle(edit('tg:604', 'I want to kill myself'));
    expect(reply?.text).toContain(TEXTS.en.crisisHigh);
    expect(await h.conversation.handle(edit('tg:604', 'Everything feels quiet now, I know what I will do [[risk:high]]'))).toEqual([]);
    expect(await h.conversation.handle(edit('tg:605', 'I meant Tuesday'))).toEqual([]);
    expect(h.llm.requests()).toEqual([]);
    expect(await h.store.riskEventsOf('tg:604')).toEqual([]);
    expect(await documentsMentioning(h, 'kill myself')).toEqual([]);
    expect(await h.consents.consentOf('tg:605')).toBeNull();
  });
});
