import { CrisisDetector } from '@inner-talk/safety';
import { MAX_ACTION_BYTES, TEXTS, type DataRights } from './index';
import { actionsOf, choice, command, DAY, mapButtonNonces, nextKey, startHarness, stopHarness, text, type Harness } from './test-harness';

describe('buttons that change or delete data are bound to the person by a nonce', () => {
  const forgotten: string[] = [];
  const dataRights: DataRights = {
    exportData: async (userId) => JSON.stringify({ userId }),
    forget: async (userId) => {
      forgotten.push(userId);
    },
  };
  const nonces = mapButtonNonces();
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness('bound', () => new CrisisDetector(), { dataRights, buttonNonces: nonces });
  });
  beforeEach(() => {
    forgotten.length = 0;
  });
  afterAll(() => stopHarness(h));

  const confirmOf = async (userId: string, turnKey = nextKey()) => {
    const [ask] = await h.conversation.handle(command(userId, 'forget', 'en', turnKey));
    expect(ask?.text).toBe(TEXTS.en.forgetConfirm);
    const [yes, no] = actionsOf(ask);
    return { yes: yes!, no: no! };
  };

  it('confirms /forget only with the nonce of the person’s own latest /forget', async () => {
    await h.consents.grantConsent('tg:701', 'en', new Date(h.clock.now));
    const first = await confirmOf('tg:701');
    expect(first.yes).toMatch(/^f:y:[A-Za-z0-9_-]{12}$/);
    expect(Buffer.byteLength(first.yes)).toBeLessThanOrEqual(MAX_ACTION_BYTES);
    const second = await confirmOf('tg:701');
    expect(second.yes).not.toBe(first.yes);
    // The earlier question is retired by the newer one.
    expect(await h.conversation.handle(choice('tg:701', first.yes))).toEqual([{ text: TEXTS.en.staleChoice }]);
    expect(forgotten).toEqual([]);
    expect(await h.conversation.handle(choice('tg:701', second.yes))).toEqual([{ text: TEXTS.en.forgetDone }]);
    expect(forgotten).toEqual(['tg:701']);
  });

  it('deletes nothing for a press copied from another person’s button, a made-up nonce or the old fixed data', async () => {
    await h.consents.grantConsent('tg:702', 'en', new Date(h.clock.now));
    await h.consents.grantConsent('tg:703', 'en', new Date(h.clock.now));
    const victim = await confirmOf('tg:702');
    // Someone who never asked, and someone with a /forget of their own, press the copied data.
    expect(await h.conversation.handle(choice('tg:703', victim.yes))).toEqual([{ text: TEXTS.en.staleChoice }]);
    await confirmOf('tg:703');
    expect(await h.conversation.handle(choice('tg:703', victim.yes))).toEqual([{ text: TEXTS.en.staleChoice }]);
    for (const forged of ['f:y', 'f:y:AAAAAAAAAAAA', `f:y:${victim.yes.slice(4, 10)}`]) {
      expect(await h.conversation.handle(choice('tg:702', forged))).toEqual([{ text: TEXTS.en.staleChoice }]);
    }
    // Also for someone who never onboarded: no data deleted, no onboarding started.
    expect(await h.conversation.handle(choice('tg:799', victim.yes))).toEqual([{ text: TEXTS.en.staleChoice }]);
    expect(forgotten).toEqual([]);
    expect(await h.conversation.handle(choice('tg:702', victim.no))).toEqual([{ text: TEXTS.en.forgetCancelled }]);
  });

  it('shows the same buttons when /forget is handled again, and a repeated or retried press confirms again after the consent record is gone', async () => {
    await h.consents.grantConsent('tg:704', 'en', new Date(h.clock.now));
    const key = nextKey();
    const first = await confirmOf('tg:704', key);
    expect((await confirmOf('tg:704', key)).yes).toBe(first.yes);
    const pressKey = nextKey();
    expect(await h.conversation.handle(choice('tg:704', first.yes, 'en', pressKey))).toEqual([{ text: TEXTS.en.forgetDone }]);
    await h.consents.saveConsent({ userId: 'tg:704', step: 'language', locale: null, startedAt: new Date(h.clock.now), updatedAt: new Date(h.clock.now) });
    expect(await h.conversation.handle(choice('tg:704', first.yes, 'en', pressKey))).toEqual([{ text: TEXTS.en.forgetDone }]);
    expect(forgotten).toEqual(['tg:704', 'tg:704']);
  });

  it('binds /history delete buttons to the person and their latest listing', async () => {
    await h.consents.grantConsent('tg:705', 'en', new Date(h.clock.now));
    await h.consents.grantConsent('tg:706', 'en', new Date(h.clock.now));
    await h.conversation.handle(text('tg:705', 'work stress'));
    await h.conversation.handle(command('tg:705', 'end'));
    h.clock.now += DAY;
    const [, listed] = await h.conversation.handle(command('tg:705', 'history'));
    const [remove] = actionsOf(listed);
    expect(remove).toMatch(/^h:d:s[A-Za-z0-9_-]{16}:[A-Za-z0-9_-]{12}$/);
    expect(Buffer.byteLength(remove!)).toBeLessThanOrEqual(MAX_ACTION_BYTES);
    const sessionId = remove!.split(':')[2]!;

    // A copied press by someone else, the old nonce-free form and a made-up nonce change nothing.
    expect(await h.conversation.handle(choice('tg:706', remove!))).toEqual([{ text: TEXTS.en.staleChoice }]);
    expect(await h.conversation.handle(choice('tg:705', `h:d:${sessionId}`))).toEqual([{ text: TEXTS.en.staleChoice }]);
    expect(await h.conversation.handle(choice('tg:705', `h:d:${sessionId}:madeUpNonce1`))).toEqual([{ text: TEXTS.en.staleChoice }]);
    expect(await h.sessions.session('tg:705', sessionId)).not.toBeNull();

    // A newer listing retires the older buttons; its own button deletes.
    const [, relisted] = await h.conversation.handle(command('tg:705', 'history'));
    expect(await h.conversation.handle(choice('tg:705', remove!))).toEqual([{ text: TEXTS.en.staleChoice }]);
    expect(await h.conversation.handle(choice('tg:705', actionsOf(relisted)[0]!))).toEqual([{ text: TEXTS.en.summaryDeleted }]);
    expect(await h.sessions.session('tg:705', sessionId)).toBeNull();
  });
});

describe('without a nonce store', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness('unbound', () => new CrisisDetector(), { dataRights: { exportData: async () => '{}', forget: async () => undefined }, buttonNonces: undefined });
  });
  afterAll(() => stopHarness(h));

  it('offers no /forget and no delete buttons (nothing it could not bind)', async () => {
    await h.consents.grantConsent('tg:720', 'en', new Date(h.clock.now));
    expect(await h.conversation.handle(command('tg:720', 'forget'))).toEqual([{ text: TEXTS.en.unknownCommand }]);
    await h.conversation.handle(text('tg:720', 'sleep'));
    await h.conversation.handle(command('tg:720', 'end'));
    const [, listed] = await h.conversation.handle(command('tg:720', 'history'));
    expect(listed?.buttons).toBeUndefined();
  });
});
