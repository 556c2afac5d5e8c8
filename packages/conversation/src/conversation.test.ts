import { INSTRUMENT_NOTICE, PHQ9, GAD7, ANSWER_SCALE } from '@inner-talk/assessments';
import { OpenAIChatProvider, ProviderError } from '@inner-talk/llm';
import { CrisisDetector } from '@inner-talk/safety';
import { AssessmentStore, ConsentStore, ConversationStore, SessionStore } from '@inner-talk/storage';
import { Conversation, crisisCheck, fill, parseAction, SYSTEM_PROMPT, TEXTS, TurnDeferredError, type ConsentMemory, type Locale, type Reply } from './index';
import { stepPrompt } from './flows/onboarding';
import { actionsOf, choice, command, DAY, documentsMentioning, nextKey, onboard, splitNotes, startHarness, stopHarness, text, type Harness } from './test-harness';

describe('the consent question', () => {
  it('names the configured processors, that data leaves the country and how long it is kept', () => {
    const [ru] = stepPrompt('consent', 'ru', ['Google (Gemini API)', 'OpenAI']);
    expect(ru?.text).toContain('сервисам: Google (Gemini API) и OpenAI.');
    expect(ru?.text).toContain('за границу');
    expect(ru?.text).toContain('пока вы не удалите это командой /forget');
    const [en] = stepPrompt('consent', 'en', ['Google (Gemini API)']);
    expect(en?.text).toContain('your messages are sent to Google (Gemini API).');
    expect(en?.text).toContain('transfer abroad');
    expect(en?.text).toContain('until you delete it with /forget');
  });

  it('never shows a placeholder when no processor is named', () => {
    const [en] = stepPrompt('consent', 'en');
    expect(en?.text).toContain('sent to an external AI service.');
    expect(en?.text).not.toMatch(/[{}]/);
  });
});

describe('onboarding and consent', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness('onb');
  });
  beforeEach(() => h.llm.reset());
  afterAll(() => stopHarness(h));

  it('goes language → AI disclosure and 18+ → consent → ready, with buttons at each step', async () => {
    const [languages] = await h.conversation.handle(command('tg:1', 'start', 'en'));
    expect(languages).toEqual({ text: TEXTS.en.chooseLanguage, buttons: [[{ label: 'Русский', action: 'l:ru' }, { label: 'English', action: 'l:en' }]] });
    // /start writes nothing at all.
    expect(await documentsMentioning(h, 'tg:1')).toEqual([]);

    const [adult] = await h.conversation.handle(choice('tg:1', 'l:ru', 'en'));
    expect(adult?.text).toBe(`${TEXTS.ru.disclosure}\n\n${TEXTS.ru.askAdult}`);
    expect(adult?.buttons).toEqual([[{ label: TEXTS.ru.adultYes, action: 'o:18y' }], [{ label: TEXTS.ru.adultNo, action: 'o:18n' }]]);
    expect(await h.consents.consentOf('tg:1')).toMatchObject({ step: 'adult', locale: 'ru' });

    const [consent] = await h.conversation.handle(choice('tg:1', 'o:18y', 'en'));
    expect(consent).toEqual({ text: fill(TEXTS.ru.askConsent, { processors: 'OpenAI' }), buttons: [[{ label: TEXTS.ru.consentYes, action: 'o:cy' }], [{ label: TEXTS.ru.consentNo, action: 'o:cn' }]] });
    expect(await h.consents.consentOf('tg:1')).toMatchObject({ step: 'consent', adultConfirmedAt: new Date(h.clock.now) });

    h.clock.now += 60_000;
    expect(await h.conversation.handle(choice('tg:1', 'o:cy', 'en'))).toEqual([{ text: TEXTS.ru.consentGiven }]);
    expect(await h.consents.consentOf('tg:1')).toMatchObject({ step: 'consented', locale: 'ru', consentedAt: new Date(h.clock.now) });

    // Now a message reaches the model (after the classifier), in the chosen language's profile.
    expect(await h.conversation.handle(text('tg:1', 'Мне тревожно', 'en'))).toEqual([{ text: 'Mock reply to: Мне тревожно' }]);
    expect(h.llm.requests().map((r) => r.system?.slice(0, 27))).toEqual(['You are a safety classifier', SYSTEM_PROMPT.slice(0, 27)]);
    expect(await h.store.getUser('tg:1')).toMatchObject({ locale: 'ru' });
  });

  it('stores nothing but the consent state before consent, and sends nothing to the model', async () => {
    const user = 'tg:2';
    await h.conversation.handle(text(user, 'my secret first words'));
    await h.conversation.handle(command(user, 'start'));
    await h.conversation.handle(choice(user, 'l:en'));
    await h.conversation.handle(text(user, 'my secret second words'));
    await h.conversation.handle(command(user, 'test'));
    await h.conversation.handle(command(user, 'help'));
    await h.conversation.handle(command(user, 'sos'));
    await h.conversation.handle({ kind: 'unsupported', userId: user, locale: 'en', turnKey: nextKey() });
    await h.conversation.handle(choice(user, 't:phq9'));
    await h.conversation.handle(choice(user, 'a:AAAAAAAAAAAAAAAA:0:3'));
    await h.conversation.handle(text(user, 'I want to kill myself'));
    await h.conversation.handle(choice(user, 'o:18y'));

    expect(h.llm.stats().requests).toBe(0);
    const mentions = await documentsMentioning(h, user);
    expect(mentions).toHaveLength(1);
    expect(mentions[0]).toMatch(/^consents: /);
    const record = await h.mongo.db.collection('consents').findOne({ userId: user });
    expect(Object.keys(record ?? {}).sort()).toEqual(['_id', 'adultConfirmedAt', 'lastTurnKey', 'locale', 'startedAt', 'step', 'updatedAt', 'userId']);
    expect(await documentsMentioning(h, 'secret')).toEqual([]);
  });

  it('answers text before consent with a gentle reminder and the current step, a first message with the language choice', async () => {
    expect(await h.conversation.handle(text('tg:3', 'hello?'))).toEqual([{ text: TEXTS.en.chooseLanguage, buttons: expect.any(Array) }]);
    await h.conversation.handle(choice('tg:3', 'l:en'));
    const replies = await h.conversation.handle(text('tg:3', 'can we talk now?'));
    expect(replies.map((r) => r.text)).toEqual([TEXTS.en.finishOnboardingFirst, `${TEXTS.en.disclosure}\n\n${TEXTS.en.askAdult}`]);
    expect(actionsOf(replies[1])).toEqual(['o:18y', 'o:18n']);
    expect(await h.conversation.handle(command('tg:3', 'test'))).toEqual(replies);
  });

  it('answers crisis words before consent with the hotlines, without the model and without storing an event', async () => {
    const replies = await h.conversation.handle(text('tg:4', 'я хочу покончить с собой', 'ru'));
    expect(replies[0]?.text).toContain(TEXTS.ru.crisisHigh);
    expect(replies[0]?.text).toContain('8-800-2000-122');
    expect(replies[1]?.text).toBe(TEXTS.ru.chooseLanguage);
    expect(h.llm.stats().requests).toBe(0);
    expect(await documentsMentioning(h, 'tg:4')).toEqual([]);
  });

  it('answers /sos at any time, before any onboarding, storing nothing', async () => {
    const [en] = await h.conversation.handle(command('tg:5', 'sos', 'en'));
    expect(en?.text).toContain(TEXTS.en.sos);
    expect(en?.text).toContain('988');
    expect(en?.text).toContain('911');
    const [ru] = await h.conversation.handle(command('tg:5', 'sos', 'ru'));
    expect(ru?.text).toContain('8-800-2000-122');
    expect(ru?.text).toContain('051');
    expect(await documentsMentioning(h, 'tg:5')).toEqual([]);
  });

  it('declining keeps only the decline; /start begins again with a fresh record', async () => {
    await h.conversation.handle(command('tg:6', 'start'));
    await h.conversation.handle(choice('tg:6', 'l:en'));
    await h.conversation.handle(choice('tg:6', 'o:18y'));
    expect(await h.conversation.handle(choice('tg:6', 'o:cn'))).toEqual([{ text: TEXTS.en.declined }]);
    expect(await h.consents.consentOf('tg:6')).toMatchObject({ step: 'declined', declinedAt: new Date(h.clock.now) });
    expect((await documentsMentioning(h, 'tg:6')).map((m) => m.split(':')[0])).toEqual(['consents']);
    // A late press of the consent button changes nothing; text still does not reach the model.
    expect((await h.conversation.handle(choice('tg:6', 'o:cy')))[0]).toEqual({ text: TEXTS.en.staleChoice });
    expect(await h.conversation.handle(text('tg:6', 'hello'))).toEqual([{ text: TEXTS.en.declined }]);
    expect(h.llm.stats().requests).toBe(0);

    expect(actionsOf((await h.conversation.handle(command('tg:6', 'start')))[0])).toEqual(['l:ru', 'l:en']);
    await h.conversation.handle(choice('tg:6', 'l:ru'));
    const fresh = await h.consents.consentOf('tg:6');
    expect(fresh).toMatchObject({ step: 'adult', locale: 'ru' });
    expect(fresh?.declinedAt).toBeUndefined();
  });

  it('ends onboarding for a person under 18 with the helplines', async () => {
    await h.conversation.handle(choice('tg:7', 'l:ru', 'ru'));
    const [reply] = await h.conversation.handle(choice('tg:7', 'o:18n', 'ru'));
    expect(reply?.text).toContain(TEXTS.ru.underage);
    expect(reply?.text).toContain('8-800-2000-122');
    expect(await h.consents.consentOf('tg:7')).toMatchObject({ step: 'underage' });
    // Consent cannot be given without the 18+ confirmation.
    expect((await h.conversation.handle(choice('tg:7', 'o:cy', 'ru')))[0]).toEqual({ text: TEXTS.ru.staleChoice });
    expect(await h.consents.consentOf('tg:7')).toMatchObject({ step: 'underage' });
  });

  it('answers a retried consent press as the first time', async () => {
    await h.conversation.handle(choice('tg:8', 'l:en'));
    await h.conversation.handle(choice('tg:8', 'o:18y'));
    const press = choice('tg:8', 'o:cy');
    const first = await h.conversation.handle(press);
    expect(first).toEqual([{ text: TEXTS.en.consentGiven }]);
    expect(await h.conversation.handle(press)).toEqual(first);
    // A different, later press of the same button is stale.
    expect(await h.conversation.handle(choice('tg:8', 'o:cy'))).toEqual([{ text: TEXTS.en.staleChoice }]);
  });
});

describe('help, language and the disclosure after an absence', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness('help');
  });
  beforeEach(() => h.llm.reset());
  afterAll(() => stopHarness(h));

  it('/help lists the commands and repeats the disclosure, before and after consent', async () => {
    const before = await h.conversation.handle(command('tg:20', 'help', 'ru'));
    expect(before[0]).toEqual({ text: TEXTS.ru.help });
    expect(before[1]?.text).toBe(TEXTS.ru.chooseLanguage);
    await onboard(h, 'tg:20', 'en');
    expect(await h.conversation.handle(command('tg:20', 'help'))).toEqual([{ text: TEXTS.en.help }]);
    for (const part of ['/test', '/language', '/sos', 'AI', 'not a replacement']) expect(TEXTS.en.help).toContain(part);
    for (const part of ['/test', '/language', '/sos', 'искусственный интеллект', 'не заменяю']) expect(TEXTS.ru.help).toContain(part);
    expect(await h.conversation.handle(command('tg:20', 'nonsense'))).toEqual([{ text: TEXTS.en.unknownCommand }]);
  });

  it('/language switches the language of every later reply', async () => {
    await h.consents.grantConsent('tg:21', 'en', new Date(h.clock.now));
    const [picker] = await h.conversation.handle(command('tg:21', 'language', 'en'));
    expect(actionsOf(picker)).toEqual(['l:ru', 'l:en']);
    // The Telegram client still says English: the person's choice wins.
    expect(await h.conversation.handle(choice('tg:21', 'l:ru', 'en'))).toEqual([{ text: TEXTS.ru.languageSet }]);
    expect(await h.conversation.handle(command('tg:21', 'help', 'en'))).toEqual([{ text: TEXTS.ru.help }]);
    expect((await h.conversation.handle(command('tg:21', 'test', 'en')))[0]?.text).toBe(TEXTS.ru.testMenu);
    await h.conversation.handle(text('tg:21', 'привет', 'en'));
    expect(await h.store.getUser('tg:21')).toMatchObject({ locale: 'ru' });
    await h.conversation.handle(choice('tg:21', 'l:en', 'en'));
    expect(await h.conversation.handle(command('tg:21', 'help', 'en'))).toEqual([{ text: TEXTS.en.help }]);
  });

  it('repeats the AI disclosure when a person comes back after 7 days, once', async () => {
    await h.consents.grantConsent('tg:22', 'en', new Date(h.clock.now));
    expect(await h.conversation.handle(text('tg:22', 'one'))).toEqual([{ text: 'Mock reply to: one' }]);
    h.clock.now += 6 * DAY;
    // (After a pause the earlier session's summary comes first; sessions are tested on their own below.)
    const summary = { text: expect.stringContaining(TEXTS.en.sessionEndedSummary) as unknown as string };
    expect(await h.conversation.handle(text('tg:22', 'two'))).toEqual([summary, { text: 'Mock reply to: two' }]);
    h.clock.now += 7 * DAY + 1000;
    expect(await h.conversation.handle(text('tg:22', 'three'))).toEqual([{ text: TEXTS.en.disclosureAfterAbsence }, summary, { text: 'Mock reply to: three' }]);
    expect(await h.conversation.handle(text('tg:22', 'four'))).toEqual([{ text: 'Mock reply to: four' }]);
  });
});

/** Runs a whole questionnaire for `userId` by pressing the buttons the replies offer; returns the last replies. */
async function takeTest(h: Harness, userId: string, questionnaire: 'phq9' | 'gad7', answers: readonly number[], locale: Locale = 'en'): Promise<Reply[]> {
  const [menu] = await h.conversation.handle(command(userId, 'test', locale));
  expect(actionsOf(menu)).toEqual(['t:phq9', 't:gad7']);
  let replies = await h.conversation.handle(choice(userId, `t:${questionnaire}`, locale));
  for (const value of answers) {
    const question = replies.at(-1);
    expect(question?.buttons?.map((row) => row.map((b) => b.label))).toEqual(ANSWER_SCALE[locale].map((label) => [label]));
    replies = await h.conversation.handle(choice(userId, actionsOf(question)[value]!, locale));
  }
  return replies;
}

describe('self-checks', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness('test');
  });
  beforeEach(() => h.llm.reset());
  afterAll(() => stopHarness(h));

  it('runs PHQ-9 with buttons, one question per message, and shows the exact total, band, advice and notice', async () => {
    await h.consents.grantConsent('tg:30', 'en', new Date(h.clock.now));
    const [, first] = await h.conversation.handle(choice('tg:30', 't:phq9'));
    expect(first?.text).toBe(fill(TEXTS.en.testQuestion, { title: PHQ9.title.en, number: 1, count: 9, item: PHQ9.items.en[0]! }));
    // 1+2+3+0+1+2+3+0+0 = 12: moderate, item 9 is 0.
    const replies = await takeTest(h, 'tg:30', 'phq9', [1, 2, 3, 0, 1, 2, 3, 0, 0]);
    expect(replies).toHaveLength(1);
    const result = replies[0]!.text;
    expect(result).toContain(fill(TEXTS.en.testResult, { title: PHQ9.title.en, total: 12, max: 27, band: TEXTS.en.bandModerate }));
    expect(result).toContain(TEXTS.en.explainModerate);
    expect(result).toContain(TEXTS.en.suggestProfessional);
    expect(result).toContain(INSTRUMENT_NOTICE);
    expect(await h.selfChecks.latestResult('tg:30', 'phq9')).toMatchObject({ status: 'completed', score: { total: 12, band: 'moderate', item9Flag: false }, completedAt: new Date(h.clock.now) });
    expect(await h.store.riskEventsOf('tg:30')).toEqual([]);
    expect(h.llm.stats().requests).toBe(0);
    // The answers are sealed at rest.
    const raw = JSON.stringify(await h.mongo.db.collection('assessments').find({ userId: 'tg:30', status: 'completed' }).toArray());
    expect(raw).not.toContain('[1,2,3');
    expect(raw).not.toContain('moderate');
  });

  it.each([
    [[0, 0, 0, 0, 1, 1, 2], 4, 'minimal'],
    [[0, 0, 0, 1, 1, 1, 2], 5, 'mild'],
    [[1, 1, 1, 1, 1, 1, 3], 9, 'mild'],
    [[1, 1, 1, 1, 1, 2, 3], 10, 'moderate'],
    [[2, 2, 2, 2, 2, 2, 2], 14, 'moderate'],
    [[3, 2, 2, 2, 2, 2, 2], 15, 'severe'],
    [[3, 3, 3, 3, 3, 3, 3], 21, 'severe'],
  ])('GAD-7 answers %j give %i, %s, through the flow', async (answers, total, band) => {
    const user = `tg:31${total}`;
    await h.consents.grantConsent(user, 'ru', new Date(h.clock.now));
    const [reply] = await takeTest(h, user, 'gad7', answers, 'ru');
    const label = { minimal: TEXTS.ru.bandMinimal, mild: TEXTS.ru.bandMild, moderate: TEXTS.ru.bandModerate, severe: TEXTS.ru.bandSevere }[band]!;
    expect(reply?.text).toContain(fill(TEXTS.ru.testResult, { title: GAD7.title.ru, total, max: 21, band: label }));
    expect(reply?.text.includes(TEXTS.ru.suggestProfessional)).toBe(total >= 10);
    expect(reply?.text).toContain(INSTRUMENT_NOTICE);
    expect(await h.selfChecks.latestResult(user, 'gad7')).toMatchObject({ score: { total, band } });
  });

  it('refuses a retest of the same questionnaire sooner than 14 days, with the date it becomes available', async () => {
    await h.consents.grantConsent('tg:32', 'en', new Date(h.clock.now));
    const takenAt = h.clock.now;
    await takeTest(h, 'tg:32', 'gad7', [0, 0, 0, 0, 0, 0, 0]);
    h.clock.now = takenAt + 13 * DAY;
    const refused = await h.conversation.handle(choice('tg:32', 't:gad7'));
    // 13 days away also brings the disclosure back first.
    expect(refused).toEqual([{ text: TEXTS.en.disclosureAfterAbsence }, { text: fill(TEXTS.en.testRetestTooSoon, { title: GAD7.title.en, date: '5 May 2026', nextDate: '19 May 2026' }) }]);
    // The other questionnaire is not affected.
    expect((await h.conversation.handle(choice('tg:32', 't:phq9'))).at(-1)?.buttons).toHaveLength(4);
    h.clock.now = takenAt + 14 * DAY;
    expect((await h.conversation.handle(choice('tg:32', 't:gad7'))).at(-1)?.buttons).toHaveLength(4);
  });

  it('PHQ-9 item 9 above 0 brings the crisis reply with hotlines first and a text-free risk event, whatever the total', async () => {
    await h.consents.grantConsent('tg:33', 'ru', new Date(h.clock.now));
    const replies = await takeTest(h, 'tg:33', 'phq9', [0, 0, 0, 0, 0, 0, 0, 0, 1], 'ru');
    expect(replies).toHaveLength(2);
    expect(replies[0]?.text).toContain(TEXTS.ru.crisisItem9);
    expect(replies[0]?.text).toContain('8-800-2000-122');
    expect(replies[0]?.text).toContain('112');
    expect(replies[1]?.text).toContain(fill(TEXTS.ru.testResult, { title: PHQ9.title.ru, total: 1, max: 27, band: TEXTS.ru.bandMinimal }));
    const events = await h.store.riskEventsOf('tg:33');
    expect(events).toEqual([expect.objectContaining({ level: 'low', sources: ['phq9_item9'] })]);
    expect(Object.keys(events[0]!).sort()).toEqual(['_id', 'at', 'level', 'sources', 'userId']);
    expect(await h.selfChecks.latestResult('tg:33', 'phq9')).toMatchObject({ score: { total: 1, band: 'minimal', item9Flag: true } });
  });

  it('answers stale, repeated, foreign and forged buttons harmlessly', async () => {
    await h.consents.grantConsent('tg:34', 'en', new Date(h.clock.now));
    await h.consents.grantConsent('tg:35', 'en', new Date(h.clock.now));
    const [, q1] = await h.conversation.handle(choice('tg:34', 't:phq9'));
    const q1Press = choice('tg:34', actionsOf(q1)[2]!);
    const [q2] = await h.conversation.handle(q1Press);
    // The same press handled again (a retried job): the same reply, no second answer.
    expect(await h.conversation.handle(q1Press)).toEqual([q2]);
    // The old question's button pressed again later: stale; the current question is shown again.
    expect(await h.conversation.handle(choice('tg:34', actionsOf(q1)[3]!))).toEqual([{ text: TEXTS.en.staleChoice }, q2]);
    const run = parseAction(actionsOf(q2)[0]!);
    if (run?.kind !== 'answer') throw new Error('expected an answer action');
    expect((await h.selfChecks.run(run.runId))?.answers).toEqual([2]);

    // Someone else's button, forged data and an answer value out of range.
    expect(await h.conversation.handle(choice('tg:35', actionsOf(q2)[1]!))).toEqual([{ text: TEXTS.en.staleChoice }]);
    expect(await h.conversation.handle(choice('tg:34', 'a:AAAAAAAAAAAAAAAA:1:1'))).toEqual([{ text: TEXTS.en.staleChoice }]);
    expect(await h.conversation.handle(choice('tg:34', `a:${run.runId}:1:7`))).toEqual([{ text: TEXTS.en.staleChoice }]);
    expect(await h.conversation.handle(choice('tg:34', 'x'.repeat(300)))).toEqual([{ text: TEXTS.en.staleChoice }]);
    expect((await h.selfChecks.run(run.runId))?.answers).toEqual([2]);

    // A new run abandons the old one: its buttons are stale from then on.
    await h.conversation.handle(choice('tg:34', 't:gad7'));
    expect(await h.conversation.handle(choice('tg:34', actionsOf(q2)[1]!))).toEqual([{ text: TEXTS.en.staleChoice }]);
    expect(await h.selfChecks.run(run.runId)).toMatchObject({ status: 'abandoned', answers: [] });
  });

  it('continues a run with a new Conversation on the same database (another worker)', async () => {
    await h.consents.grantConsent('tg:36', 'en', new Date(h.clock.now));
    const [, q1] = await h.conversation.handle(choice('tg:36', 't:gad7'));
    const [q2] = await h.conversation.handle(choice('tg:36', actionsOf(q1)[3]!));
    const other = new Conversation({
      model: new OpenAIChatProvider({ apiKey: 'k', model: 'm', baseURL: h.llm.sdkBaseUrl }),
      memory: new ConversationStore(h.mongo.db, { vault: h.vault }),
      consents: new ConsentStore(h.mongo.db),
      selfChecks: new AssessmentStore(h.mongo.db, { vault: h.vault }),
      sessions: new SessionStore(h.mongo.db, { vault: h.vault }),
      safety: new CrisisDetector(),
      llmTimeoutMs: 5000,
      now: () => new Date(h.clock.now),
    });
    const [q3] = await other.handle(choice('tg:36', actionsOf(q2)[3]!));
    expect(q3?.text).toContain(GAD7.items.en[2]!);
  });
});

describe('talk with the two-layer crisis check', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness('talk');
  });
  beforeEach(() => h.llm.reset());
  afterAll(() => stopHarness(h));

  it('reads a message after the previous one when it came within two minutes: halves of one statement get the crisis reply', async () => {
    await h.consents.grantConsent('tg:47', 'en', new Date(h.clock.now));
    expect(await h.conversation.handle(text('tg:47', 'i dont want to'))).toEqual([{ text: 'Mock reply to: i dont want to' }]);
    h.clock.now += 10_000;
    const [reply, ...rest] = await h.conversation.handle(text('tg:47', 'wake up ever again'));
    expect(rest).toEqual([]);
    expect(reply?.text).toContain(TEXTS.en.crisisHigh);
    expect(await h.store.riskEventsOf('tg:47')).toEqual([expect.objectContaining({ level: 'high', sources: ['phrases'] })]);
    // Further on, the conversation goes on as usual: a high message already answered does not raise the next one.
    h.clock.now += 10_000;
    expect(await h.conversation.handle(text('tg:47', 'thank you'))).toEqual([{ text: 'Mock reply to: thank you' }]);
  });

  it('does not read a message with one from more than two minutes before', async () => {
    await h.consents.grantConsent('tg:48', 'en', new Date(h.clock.now));
    await h.conversation.handle(text('tg:48', 'i dont want to'));
    h.clock.now += 3 * 60_000;
    expect(await h.conversation.handle(text('tg:48', 'wake up ever again'))).toEqual([{ text: 'Mock reply to: wake up ever again' }]);
  });

  it('does not turn ordinary messages into crisis replies (the classifier answers NONE)', async () => {
    await h.consents.grantConsent('tg:40', 'en', new Date(h.clock.now));
    expect(await h.conversation.handle(text('tg:40', "I'm dying to see the movie"))).toEqual([{ text: "Mock reply to: I'm dying to see the movie" }]);
    expect(h.llm.stats().requests).toBe(2);
    expect(await h.store.riskEventsOf('tg:40')).toEqual([]);
  });

  it('answers what only the classifier flags with the crisis reply, before any model reply', async () => {
    await h.consents.grantConsent('tg:41', 'en', new Date(h.clock.now));
    // The phrase layer reads "I said goodbye to everyone" as a goodbye itself, so this text is one only the model flags.
    const [reply, ...rest] = await h.conversation.handle(text('tg:41', 'Everything feels quiet now, I know what I will do [[risk:high]]'));
    expect(rest).toEqual([]);
    expect(reply?.text).toContain(TEXTS.en.crisisHigh);
    expect(reply?.text).toContain('988');
    expect(h.llm.requests().map((r) => r.system === SYSTEM_PROMPT)).toEqual([false]);
    expect(await h.store.riskEventsOf('tg:41')).toEqual([expect.objectContaining({ level: 'high', sources: ['classifier'] })]);
    expect(JSON.stringify(await h.store.riskEventsOf('tg:41'))).not.toContain('quiet');
  });

  it('fails closed when the classifier errors: the contacts with an honest note now, the message answered when it runs again', async () => {
    await h.consents.grantConsent('tg:42', 'en', new Date(h.clock.now));
    const message = text('tg:42', 'hello');
    h.llm.script({ status: 500 });
    const error: unknown = await h.conversation.handle(message).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TurnDeferredError);
    const deferred = error as TurnDeferredError;
    expect(deferred.reason).toBe('safety_unchecked');
    expect(deferred.interim.map((r) => r.text)).toEqual([expect.stringContaining(TEXTS.en.safetyUnchecked)]);
    expect(deferred.interim[0]?.text).toContain('988');
    expect(deferred.interim[0]?.text).toContain(TEXTS.en.safetyUncheckedOutro);
    // Nothing is stored for a message nobody could read: no risk event, no message.
    expect(await h.store.riskEventsOf('tg:42')).toEqual([]);
    expect(await h.mongo.db.collection('messages').countDocuments({ userId: 'tg:42' })).toBe(0);
    expect(await h.conversation.handle(message)).toEqual([{ text: 'Mock reply to: hello' }]);
  });

  it('gives the crisis reply on the run after a failed check when the classifier then finds risk', async () => {
    await h.consents.grantConsent('tg:43', 'en', new Date(h.clock.now));
    const message = text('tg:43', 'Everything feels quiet now, I know what I will do [[risk:high]]');
    h.llm.script({ hang: true });
    const checked = new Conversation({ ...conversationOptions(h), safety: crisisCheck({ model: modelOf(h), timeoutMs: 300 }) });
    const started = Date.now();
    await expect(checked.handle(message)).rejects.toMatchObject({ name: 'TurnDeferredError', reason: 'safety_unchecked' });
    expect(Date.now() - started).toBeLessThan(1300);
    const [reply, ...rest] = await checked.handle(message);
    expect(rest).toEqual([]);
    expect(reply?.text).toContain(TEXTS.en.crisisHigh);
    expect(await h.store.riskEventsOf('tg:43')).toEqual([expect.objectContaining({ level: 'high', sources: ['classifier'] })]);
  });

  it.each([
    ['refuses the message', { status: 200, body: { id: 'c', object: 'chat.completion', created: 1, model: 'gpt-test', choices: [{ index: 0, message: { role: 'assistant', content: null, refusal: 'No.' }, finish_reason: 'stop' }] } }],
    ['answers something unreadable', { status: 200, body: { id: 'c', object: 'chat.completion', created: 1, model: 'gpt-test', choices: [{ index: 0, message: { role: 'assistant', content: 'I am not able to assess this.' }, finish_reason: 'stop' }] } }],
  ])('fails closed at once when the classifier %s: asking again would fail the same way and hold the chat', async (_, answer) => {
    const userId = `tg:45${_.length}`;
    await h.consents.grantConsent(userId, 'en', new Date(h.clock.now));
    h.llm.script(answer);
    const [reply, ...rest] = await h.conversation.handle(text(userId, 'everything is grey and quiet now'));
    expect(rest).toEqual([]);
    expect(reply?.text).toContain(TEXTS.en.crisisHigh);
    expect(await h.store.riskEventsOf(userId)).toEqual([expect.objectContaining({ level: 'high', sources: ['classifier_error'] })]);
  });

  it('never sends a model reply that gives a method or a dose: the fixed supportive text with the contacts goes instead, and is what is kept', async () => {
    await h.consents.grantConsent('tg:46', 'en', new Date(h.clock.now));
    const unsafe = 'I hear you. For what it is worth, a lethal dose of paracetamol is about 10 grams.';
    const completion = { id: 'c', object: 'chat.completion', created: 1, model: 'gpt-test', choices: [{ index: 0, message: { role: 'assistant', content: unsafe }, finish_reason: 'stop' }], usage: { prompt_tokens: 10, completion_tokens: 20, total_tokens: 30 } };
    // The classifier answers as usual; the reply carries a dose.
    h.llm.script([{}, { status: 200, body: completion }]);
    const message = text('tg:46', 'I cannot sleep and everything hurts');
    const replies = await h.conversation.handle(message);
    expect(replies.map((r) => r.text)).toEqual([expect.stringContaining(TEXTS.en.replyRefused)]);
    expect(replies[0]?.text).toContain('988');
    expect(replies[0]?.text).not.toContain('10 grams');
    // Kept as sent: the retried turn repeats the safe text, and the unsafe one is nowhere in the session.
    expect(await h.conversation.handle(message)).toEqual(replies);
    const session = await h.sessions.activeSession('tg:46');
    expect(JSON.stringify(session?.recent)).not.toContain('10 grams');
  });

  it('answers a reply the provider refuses with the fixed supportive text and the contacts', async () => {
    await h.consents.grantConsent('tg:44', 'ru', new Date(h.clock.now));
    const refusal = { id: 'c', object: 'chat.completion', created: 1, model: 'gpt-test', choices: [{ index: 0, message: { role: 'assistant', content: null, refusal: 'No.' }, finish_reason: 'stop' }] };
    // The classifier answers as usual; the reply is refused.
    h.llm.script([{}, { status: 200, body: refusal }]);
    const message = text('tg:44', 'something the filter dislikes', 'ru');
    const replies = await h.conversation.handle(message);
    expect(replies.map((r) => r.text)).toEqual([expect.stringContaining(TEXTS.ru.replyRefused)]);
    expect(replies[0]?.text).toContain('8-800-2000-122');
    // Stored like a reply: the same turn again gives the same answer without the model.
    const calls = h.llm.stats().requests;
    expect(await h.conversation.handle(message)).toEqual(replies);
    expect(h.llm.stats().requests).toBe(calls);
  });
});

describe('crisis replies while storage does not answer', () => {
  let h: Harness;
  let down = false;
  beforeAll(async () => {
    h = await startHarness('storage-down');
  });
  beforeEach(() => {
    h.llm.reset();
    down = false;
  });
  afterAll(() => stopHarness(h));

  /** The harness's conversation, whose consent reads hang while `down` (a database past reach waits out server selection). */
  function conversation(): Conversation {
    const consents: ConsentMemory = Object.create(h.consents) as ConsentMemory;
    consents.consentOf = (userId) => (down ? new Promise(() => undefined) : h.consents.consentOf(userId));
    return new Conversation({ ...conversationOptions(h), consents, urgentStorageWaitMs: 200 });
  }

  it('sends the crisis reply at once in the channel language, and stores the risk event when the turn runs again', async () => {
    await h.consents.grantConsent('tg:60', 'en', new Date(h.clock.now));
    const c = conversation();
    const message = text('tg:60', 'I want to kill myself', 'en');
    down = true;
    const started = Date.now();
    const error: unknown = await c.handle(message).catch((e: unknown) => e);
    expect(Date.now() - started).toBeLessThan(1000);
    expect(error).toMatchObject({ name: 'TurnDeferredError', reason: 'storage_unavailable' });
    const interim = (error as TurnDeferredError).interim;
    expect(interim.map((r) => r.text)).toEqual([expect.stringContaining(TEXTS.en.crisisHigh)]);
    expect(h.llm.stats().requests).toBe(0);
    expect(await h.store.riskEventsOf('tg:60')).toEqual([]);

    down = false;
    const replies = await c.handle(message);
    // The same first reply, so a ledger that counts the turn's replies skips what was sent.
    expect(replies[0]).toEqual(interim[0]);
    expect(await h.store.riskEventsOf('tg:60')).toEqual([expect.objectContaining({ level: 'high', sources: ['phrases'] })]);
  });

  it('keeps the crisis reply first when the disclosure after a long absence joins it', async () => {
    await h.consents.grantConsent('tg:61', 'en', new Date(h.clock.now - 30 * DAY));
    await h.consents.markActive('tg:61', new Date(h.clock.now - 30 * DAY));
    const replies = await conversation().handle(text('tg:61', 'I want to kill myself'));
    expect(replies.map((r) => r.text)).toEqual([expect.stringContaining(TEXTS.en.crisisHigh), TEXTS.en.disclosureAfterAbsence]);
  });

  it('answers /sos at once, and leaves an ordinary text to wait for storage', async () => {
    down = true;
    const c = conversation();
    const started = Date.now();
    expect((await c.handle(command('tg:62', 'sos', 'ru')))[0]?.text).toContain(TEXTS.ru.sos);
    expect(Date.now() - started).toBeLessThan(1000);
    let settled = false;
    void c.handle(text('tg:62', 'hello')).finally(() => (settled = true)).catch(() => undefined);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(settled).toBe(false);
  });
});

function modelOf(h: Harness): OpenAIChatProvider {
  return new OpenAIChatProvider({ apiKey: 'k', model: 'gpt-test', baseURL: h.llm.sdkBaseUrl });
}

function conversationOptions(h: Harness) {
  return {
    model: modelOf(h),
    memory: h.store,
    consents: h.consents,
    selfChecks: h.selfChecks,
    sessions: h.sessions,
    safety: crisisCheck({ model: modelOf(h), timeoutMs: 5000 }),
    llmTimeoutMs: 5000,
    now: () => new Date(h.clock.now),
  };
}

describe('talk: turns, retries and the phrase layer', () => {
  let h: Harness;
  beforeAll(async () => {
    // The phrase layer alone, so the mock sees model replies only.
    h = await startHarness('conv', () => new CrisisDetector());
    for (const user of ['tg:2', 'tg:3', 'tg:4', 'tg:5', 'tg:9', 'tg:10', 'tg:11']) await h.consents.grantConsent(user, 'en', new Date(h.clock.now));
  });
  beforeEach(() => h.llm.reset());
  afterAll(() => stopHarness(h));

  it('sends the stable system prompt first and earlier turns in order', async () => {
    await h.conversation.handle(text('tg:2', 'first'));
    h.clock.now += 1000;
    await h.conversation.handle(text('tg:2', 'second'));
    const [first, second] = h.llm.requests();
    // The stable prompt is the whole system prompt of every request; what is personal follows it as data.
    for (const request of [first, second]) expect(request?.system).toBe(SYSTEM_PROMPT);
    const { notes, turns } = splitNotes(second?.messages ?? []);
    expect(notes).toContain('Language of the person: English.');
    expect(second?.messages.slice(0, 2).map((m) => m.role)).toEqual(['user', 'assistant']);
    expect(turns.map((m) => [m.role, m.text])).toEqual([
      ['user', 'first'],
      ['assistant', 'Mock reply to: first'],
      ['user', 'second'],
    ]);
  });

  it('answers a retried turn from the store without a second model call', async () => {
    const turnOnce = text('tg:3', 'once');
    const first = await h.conversation.handle(turnOnce);
    expect(await h.conversation.handle(turnOnce)).toEqual(first);
    expect(h.llm.stats().requests).toBe(1);
  });

  it('retries a turn whose model call failed without repeating the message in the prompt', async () => {
    const flaky = text('tg:4', 'flaky');
    h.llm.script({ status: 503 });
    const failure = h.conversation.handle(flaky);
    await expect(failure).rejects.toBeInstanceOf(ProviderError);
    await expect(failure).rejects.toMatchObject({ kind: 'server' });
    await expect(h.conversation.handle(flaky)).resolves.toEqual([{ text: 'Mock reply to: flaky' }]);
    expect(splitNotes(h.llm.requests().at(-1)?.messages ?? []).turns.map((m) => m.text)).toEqual(['flaky']);
    expect(await h.mongo.db.collection('messages').countDocuments({ userId: 'tg:4' })).toBe(2);
  });

  it('does not call the model for an empty text or an unsupported message', async () => {
    expect(await h.conversation.handle(text('tg:5', '  '))).toEqual([{ text: TEXTS.en.emptyMessage }]);
    expect(await h.conversation.handle({ kind: 'unsupported', userId: 'tg:5', locale: 'en', turnKey: nextKey() })).toEqual([{ text: TEXTS.en.emptyMessage }]);
    expect(h.llm.stats().requests).toBe(0);
  });

  it('answers a high-risk message with the crisis reply and hotlines, without the model, and stores a text-free risk event once', async () => {
    await h.consents.grantConsent('tg:9', 'ru', new Date(h.clock.now));
    const message = text('tg:9', 'я хочу покончить с собой', 'ru');
    const replies = await h.conversation.handle(message);
    expect(replies).toHaveLength(1);
    expect(replies[0]!.text).toContain(TEXTS.ru.crisisHigh);
    expect(replies[0]!.text).toContain('8-800-2000-122');
    expect(h.llm.stats().requests).toBe(0);
    expect(await h.store.riskEventsOf('tg:9')).toEqual([expect.objectContaining({ level: 'high', sources: ['phrases'] })]);
    expect(JSON.stringify(await h.store.riskEventsOf('tg:9'))).not.toContain('покончить');
    expect(await h.conversation.handle(message)).toEqual(replies);
    expect(await h.store.riskEventsOf('tg:9')).toHaveLength(1);
  });

  it('answers a low-risk message with care and then the contacts', async () => {
    const replies = await h.conversation.handle(text('tg:10', "I can't go on like this"));
    expect(replies.map((r) => r.text)).toEqual(["Mock reply to: I can't go on like this", expect.stringContaining('988')]);
    expect(await h.store.riskEventsOf('tg:10')).toEqual([expect.objectContaining({ level: 'low' })]);
  });
});
