// Test support for the conversation's suites (not exported by the package): a Conversation on a
// fresh MongoDB database with a mock OpenAI model and a clock the test moves.
import { OpenAIChatProvider } from '@inner-talk/llm';
import { startMockOpenAI, type MockLlmServer, type MockReceivedMessage } from '@inner-talk/mocks';
import { AssessmentStore, ConsentStore, connectMongo, ConversationStore, SessionStore, type MongoConnection } from '@inner-talk/storage';
import { serviceUrls, uniquePrefix } from '@inner-talk/testkit';
import { Vault } from '@inner-talk/vault';
import { CONTEXT_NOTES_HEADER, Conversation, crisisCheck, type ButtonNonces, type ConversationOptions, type Incoming, type Locale, type Reply, type SafetyCheck } from './index';

export const DAY = 86_400_000;

/** A conversation on a fresh database, with a clock the test moves. */
export interface Harness {
  mongo: MongoConnection;
  vault: Vault;
  store: ConversationStore;
  consents: ConsentStore;
  selfChecks: AssessmentStore;
  sessions: SessionStore;
  llm: MockLlmServer;
  conversation: Conversation;
  clock: { now: number };
}

/**
 * The nonce port over a Map (the Redis one is tested in the worker): the conversation's own rules
 * (issue, keep for a retried turn, replace) without expiry.
 */
export function mapButtonNonces(): ButtonNonces & { entries: Map<string, { turnKey: string; nonce: string }> } {
  const entries = new Map<string, { turnKey: string; nonce: string }>();
  return {
    entries,
    async issue(userId, purpose, turnKey, proposed) {
      const key = `${userId}|${purpose}`;
      const current = entries.get(key);
      if (current?.turnKey === turnKey) return current.nonce;
      entries.set(key, { turnKey, nonce: proposed });
      return proposed;
    },
    async live(userId, purpose) {
      return entries.get(`${userId}|${purpose}`)?.nonce ?? null;
    },
  };
}

export async function startHarness(
  name: string,
  safety: (model: OpenAIChatProvider) => SafetyCheck = (model) => crisisCheck({ model, timeoutMs: 5000 }),
  extra: Partial<ConversationOptions> = {},
): Promise<Harness> {
  const mongo = await connectMongo(serviceUrls().mongoUrl, uniquePrefix(name).replace(/[^A-Za-z0-9_]/g, '_'), { monitorCommands: true });
  const vault = Vault.withRandomKey();
  const store = new ConversationStore(mongo.db, { vault });
  const consents = new ConsentStore(mongo.db);
  const selfChecks = new AssessmentStore(mongo.db, { vault });
  const sessions = new SessionStore(mongo.db, { vault });
  await selfChecks.ensureIndexes();
  await sessions.ensureIndexes();
  const llm = await startMockOpenAI();
  const model = new OpenAIChatProvider({ apiKey: 'test-key', model: 'gpt-test', baseURL: llm.sdkBaseUrl });
  const clock = { now: Date.UTC(2026, 4, 5, 12) };
  const conversation = new Conversation({
    model,
    memory: store,
    consents,
    selfChecks,
    sessions,
    safety: safety(model),
    buttonNonces: mapButtonNonces(),
    llmTimeoutMs: 5000,
    dataProcessors: ['OpenAI'],
    now: () => new Date(clock.now),
    ...extra,
  });
  return { mongo, vault, store, consents, selfChecks, sessions, llm, conversation, clock };
}

export async function stopHarness(h: Harness | undefined): Promise<void> {
  if (!h) return;
  await h.llm.close();
  await h.mongo.db.dropDatabase();
  await h.mongo.close();
}

let turn = 0;
export const nextKey = () => `u${++turn}`;

/** What a person does, with a fresh turn key unless one is given (a retried event reuses its key). */
export function command(userId: string, name: string, locale: Locale = 'en', turnKey = nextKey()): Incoming {
  return { kind: 'command', userId, locale, turnKey, name };
}
export function text(userId: string, body: string, locale: Locale = 'en', turnKey = nextKey()): Incoming {
  return { kind: 'text', userId, locale, turnKey, text: body };
}
export function choice(userId: string, action: string, locale: Locale = 'en', turnKey = nextKey()): Incoming {
  return { kind: 'choice', userId, locale, turnKey, action };
}
export function edit(userId: string, body: string, locale: Locale = 'en', turnKey = nextKey()): Incoming {
  return { kind: 'edit', userId, locale, turnKey, text: body };
}

/** The actions of a reply's buttons, row by row flattened. */
export function actionsOf(reply: Reply | undefined): string[] {
  return (reply?.buttons ?? []).flat().map((b) => b.action);
}

/** Every document of every collection that mentions `needle` anywhere, as `collection: json`. */
export async function documentsMentioning(h: Harness, needle: string): Promise<string[]> {
  const found: string[] = [];
  for (const { name } of await h.mongo.db.listCollections().toArray()) {
    for (const doc of await h.mongo.db.collection(name).find({}).toArray()) {
      const json = JSON.stringify(doc);
      if (json.includes(needle)) found.push(`${name}: ${json}`);
    }
  }
  return found;
}

/** Clicks through onboarding with the buttons the replies offer; returns the last replies. */
export async function onboard(h: Harness, userId: string, locale: Locale): Promise<Reply[]> {
  const [languages] = await h.conversation.handle(command(userId, 'start', locale));
  expect(actionsOf(languages)).toEqual(['l:ru', 'l:en']);
  const [adult] = await h.conversation.handle(choice(userId, `l:${locale}`, locale));
  const [consent] = await h.conversation.handle(choice(userId, actionsOf(adult)[0]!, locale));
  return h.conversation.handle(choice(userId, actionsOf(consent)[0]!, locale));
}

/**
 * A reply request's messages split into the notes block (the person's long-term context, sent as a
 * user turn with a fixed model acknowledgement) and the conversation after it.
 */
export function splitNotes(messages: readonly MockReceivedMessage[]): { notes: string | null; turns: MockReceivedMessage[] } {
  const first = messages[0];
  if (first?.role === 'user' && first.text.startsWith(CONTEXT_NOTES_HEADER)) return { notes: first.text, turns: messages.slice(2) };
  return { notes: null, turns: [...messages] };
}
