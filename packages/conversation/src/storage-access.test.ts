import type { CommandStartedEvent, Document } from 'mongodb';
import { CrisisDetector } from '@inner-talk/safety';
import type { ContextCache } from './index';
import { actionsOf, choice, command, startHarness, stopHarness, text, type Harness } from './test-harness';

const MINUTE = 60_000;

/**
 * What a MongoDB command selects documents by, for the commands that select any: find, update,
 * delete, findAndModify; count and aggregate always read a whole collection here.
 */
function selections(event: CommandStartedEvent): { collection: string; filter: Document | 'whole collection' }[] {
  const c = event.command;
  switch (event.commandName) {
    case 'find':
      return [{ collection: c.find, filter: c.filter ?? {} }];
    case 'update':
      return (c.updates as { q: Document }[]).map((u) => ({ collection: c.update, filter: u.q }));
    case 'delete':
      return (c.deletes as { q: Document }[]).map((d) => ({ collection: c.delete, filter: d.q }));
    case 'findAndModify':
      return [{ collection: c.findAndModify, filter: c.query ?? {} }];
    case 'count':
    case 'aggregate':
    case 'distinct':
      return [{ collection: c[event.commandName], filter: 'whole collection' }];
    default:
      return [];
  }
}

const byIdAlone = (filter: Document | 'whole collection') =>
  filter !== 'whole collection' && Object.keys(filter).length === 1 && typeof filter._id === 'string';

// A wire-protocol server may use its primary key only for a filter that is exactly `{ _id: <string> }`
// (FerretDB on SQLite scans and decodes every document of the collection for anything else), so the
// flows people use every day must select nothing else: their cost must not grow with the number of
// people. Export, forget, admin counts and key rotation are rare and may scan.
describe('storage access of everyday turns', () => {
  let h: Harness;
  beforeAll(async () => {
    // The long-term context cache (Redis in the worker) over a Map: its misses rebuild from MongoDB.
    const cached = new Map<string, string>();
    const contextCache: ContextCache = {
      get: async (userId) => cached.get(userId) ?? null,
      set: async (userId, context) => void cached.set(userId, context),
      invalidate: async (userId) => void cached.delete(userId),
    };
    h = await startHarness('access', () => new CrisisDetector(), { sessionInactivityMs: 30 * MINUTE, contextCache });
  });
  afterAll(() => stopHarness(h));

  it('selects documents by `_id` alone: messages, sessions, summaries, history, self-checks, context', async () => {
    const seen: { collection: string; filter: Document | 'whole collection' }[] = [];
    const listener = (event: CommandStartedEvent) => seen.push(...selections(event));
    h.mongo.client.on('commandStarted', listener);
    try {
      const user = 'tg:700';
      // Onboarding by its buttons: English, 18+ yes, consent yes.
      const [menu] = await h.conversation.handle(command(user, 'start'));
      const adult = (await h.conversation.handle(choice(user, actionsOf(menu).find((a) => a === 'l:en')!))).at(-1);
      const consent = (await h.conversation.handle(choice(user, actionsOf(adult)[0]!))).at(-1);
      await h.conversation.handle(choice(user, actionsOf(consent)[0]!));
      expect(await h.consents.consentOf(user)).toMatchObject({ step: 'consented' });
      await h.conversation.handle(text(user, 'I could not sleep again'));
      h.clock.now += MINUTE;
      await h.conversation.handle(text(user, 'work has been heavy'));
      await h.conversation.handle(command(user, 'end'));
      await h.conversation.handle(command(user, 'history'));
      const [, first] = await h.conversation.handle(choice(user, 't:gad7'));
      let question = first;
      for (let i = 0; i < 7; i += 1) [question] = await h.conversation.handle(choice(user, actionsOf(question)[1]!));
      h.clock.now += MINUTE;
      await h.conversation.handle(text(user, 'a little better today'));
      h.clock.now += 60 * MINUTE; // the session ends by inactivity at the next message
      await h.conversation.handle(text(user, 'back again'));
      await h.conversation.handle(command(user, 'session'));
      expect(await h.selfChecks.latestResult(user, 'gad7')).toMatchObject({ status: 'completed' });
      expect((await h.sessions.summaries(user, 10)).length).toBeGreaterThanOrEqual(2);
    } finally {
      h.mongo.client.off('commandStarted', listener);
    }
    expect(seen.length).toBeGreaterThan(30);
    expect(seen.filter((s) => !byIdAlone(s.filter)).map((s) => `${s.collection} ${JSON.stringify(s.filter)}`)).toEqual([]);
  });

  it('a message in an open session costs six MongoDB round trips: four reads by id, the two messages in one write, the session', async () => {
    const user = 'tg:701';
    await h.consents.grantConsent(user, 'en', new Date(h.clock.now));
    await h.conversation.handle(text(user, 'first message opens a session'));
    h.clock.now += MINUTE;
    const commands: string[] = [];
    const listener = (event: CommandStartedEvent) => {
      const collection = event.command[event.commandName];
      commands.push(`${event.commandName} ${typeof collection === 'string' ? collection : ''}`.trim());
    };
    h.mongo.client.on('commandStarted', listener);
    try {
      await h.conversation.handle(text(user, 'and a second one'));
    } finally {
      h.mongo.client.off('commandStarted', listener);
    }
    // consent, a stored reply for this turn (a retry), the session index, the session; then the
    // person's message and the reply together, and the session's recent messages.
    expect(commands.sort()).toEqual(['find consents', 'find messages', 'find session_heads', 'find sessions', 'update messages', 'update sessions'].sort());
  });
});
