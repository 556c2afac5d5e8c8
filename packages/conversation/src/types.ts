import type { ChatProvider } from '@inner-talk/llm';
import type { Locale } from './locales';

/** One button under a reply. `action` is opaque to the channel and comes back in a `choice`. */
export interface Button {
  label: string;
  /** At most MAX_ACTION_BYTES bytes of UTF-8 (Telegram's callback_data limit). */
  action: string;
}

/** What to send back, in order. Buttons are rows of choices shown under the text. */
export interface Reply {
  text: string;
  buttons?: Button[][];
  /** A file sent with the text as its caption (e.g. the `/export` JSON). */
  file?: { name: string; content: string };
}

interface IncomingBase {
  /** Channel-qualified person id, e.g. `tg:42`. */
  userId: string;
  /** The channel's guess of the person's language; a language the person chose wins over it. */
  locale: Locale;
  /** Unique per channel event (Telegram: `u<update_id>`); the same event handled twice has the same key. */
  turnKey: string;
}

/** Something a person did, in channel-neutral terms. */
export type Incoming =
  /** A command such as `start`, `help`, `language`, `test`, `sos` (lower case, without `/`). */
  | (IncomingBase & { kind: 'command'; name: string; /** What follows the command, trimmed ('' when nothing). */ args?: string })
  | (IncomingBase & { kind: 'text'; text: string })
  /** The person chose a button; `action` is what the button carried (may be stale, foreign or forged). */
  | (IncomingBase & { kind: 'choice'; action: string })
  /** A message kind we do not read yet (photo, voice, sticker…). */
  | (IncomingBase & { kind: 'unsupported' })
  /** The person edited an earlier message into `text`: checked for crisis risk only (flows/edit.ts). */
  | (IncomingBase & { kind: 'edit'; text: string });

/** What the conversation needs from message storage. The MongoDB ConversationStore implements it. */
export interface ConversationMemory {
  /** Creates the person's user record, or refreshes its `lastSeenAt` and locale. Called when a session starts. */
  touchUser(id: string, locale: string, now: Date): Promise<void>;
  /** Stores a turn's messages in one round trip, in order; idempotent per (userId, turnKey, role). */
  saveMessages(messages: readonly { userId: string; turnKey: string; role: 'user' | 'assistant'; text: string; at: Date; sessionId?: string }[]): Promise<void>;
  findReply(userId: string, turnKey: string): Promise<string | null>;
  /** Stores that something showed risk: when, how high, which source — never any text. Idempotent per turn. */
  recordRiskEvent(event: { userId: string; turnKey: string; level: 'low' | 'high'; sources: readonly string[]; at: Date }): Promise<void>;
}

export type ConsentStep = 'language' | 'adult' | 'consent' | 'consented' | 'declined' | 'underage';

/** The only record kept about a person before consent (see the storage ConsentStore). */
export interface ConsentState {
  userId: string;
  step: ConsentStep;
  locale: string | null;
  startedAt: Date;
  updatedAt: Date;
  adultConfirmedAt?: Date;
  consentedAt?: Date;
  declinedAt?: Date;
  underageAt?: Date;
  lastActiveAt?: Date;
  lastTurnKey?: string;
}

/** What the conversation needs from consent storage. The MongoDB ConsentStore implements it. */
export interface ConsentMemory {
  consentOf(userId: string): Promise<ConsentState | null>;
  saveConsent(state: ConsentState): Promise<void>;
  /** The consent write: step `consented` with its timestamp. */
  grantConsent(userId: string, locale: string, at: Date, turnKey?: string): Promise<void>;
  markActive(userId: string, at: Date): Promise<void>;
}

/** One questionnaire run as stored (answers and score already opened). */
export interface SelfCheckRunState {
  id: string;
  userId: string;
  questionnaire: string;
  status: 'active' | 'completed' | 'abandoned';
  index: number;
  answers: number[];
  startedAt: Date;
  completedAt: Date | null;
  score: { total: number; band: string; item9Flag: boolean } | null;
  lastTurnKey: string;
}

/** What the self-check flow needs from storage. The MongoDB AssessmentStore implements it. */
export interface SelfCheckMemory {
  startRun(run: { id: string; userId: string; questionnaire: string; at: Date; turnKey: string }): Promise<SelfCheckRunState>;
  run(id: string): Promise<SelfCheckRunState | null>;
  recordAnswer(change: { id: string; expectedIndex: number; answers: readonly number[]; at: Date; turnKey: string }): Promise<boolean>;
  complete(change: {
    id: string;
    expectedIndex: number;
    answers: readonly number[];
    score: { total: number; band: string; item9Flag: boolean };
    at: Date;
    turnKey: string;
  }): Promise<boolean>;
  latestResult(userId: string, questionnaire: string): Promise<SelfCheckRunState | null>;
}

export type SessionEndReason = 'command' | 'inactivity' | 'budget' | 'new_session';

/** One conversation session (the storage SessionStore keeps them). */
export interface SessionState {
  id: string;
  userId: string;
  status: 'active' | 'ended';
  startedAt: Date;
  /** Time of the latest message of the session; inactivity is measured from it. */
  lastMessageAt: Date;
  /** Model tokens spent in the session (input + output), for the session budget. */
  tokens: number;
  /** The event that started it, and the session it followed (to repeat a retried turn exactly). */
  startedByTurn: string;
  previousSessionId: string | null;
  endedAt: Date | null;
  endReason: SessionEndReason | null;
  /** The event that ended it (a retried `/end` shows the same summary again). */
  endedByTurn: string | null;
  /** The short summary written at the end; null while active or when there was nothing to sum up. */
  summary: string | null;
  /** The session's latest messages, oldest first (what the prompt and the summary are built from). */
  recent: ReadonlyArray<SessionMessage>;
}

/** One message as a session keeps it. */
export interface SessionMessage {
  role: 'user' | 'assistant';
  text: string;
  turnKey: string;
}

/** What sessions need from storage. The MongoDB SessionStore implements it. */
export interface SessionMemory {
  activeSession(userId: string): Promise<SessionState | null>;
  session(userId: string, id: string): Promise<SessionState | null>;
  start(session: { id: string; userId: string; at: Date; turnKey: string; previousSessionId: string | null }): Promise<SessionState>;
  /** Records a turn: `recent` is replaced by the given list, `lastMessageAt` moves forward, `tokens` grow. */
  recordTurn(change: { id: string; at: Date; tokens: number; recent: readonly SessionMessage[] }): Promise<void>;
  /** True if this call ended it; false if it had ended already. */
  end(change: { id: string; at: Date; reason: SessionEndReason; turnKey: string; summary: string | null }): Promise<boolean>;
  lastEnded(userId: string): Promise<SessionState | null>;
  /** Ended sessions with a summary, newest first. */
  summaries(userId: string, limit: number): Promise<SessionState[]>;
  delete(userId: string, id: string): Promise<boolean>;
}

/**
 * A cache of a person's assembled long-term context (profile, recent summaries, latest self-check
 * results), so a turn does not re-read and re-open them. The conversation invalidates it on every
 * write that changes what goes in. A cache that fails must not fail the turn: implementations
 * answer `null` on errors.
 */
export interface ContextCache {
  get(userId: string): Promise<string | null>;
  set(userId: string, context: string): Promise<void>;
  invalidate(userId: string): Promise<void>;
}

/** A person's data rights (the worker implements them over storage, caches and queues, with an audit entry each). */
export interface DataRights {
  /** Everything kept about the person, as a JSON document. `turnKey` makes the audit entry idempotent. */
  exportData(userId: string, turnKey: string): Promise<string>;
  /** Deletes everything kept about the person (storage, caches, queued work). Idempotent. */
  forget(userId: string, turnKey: string): Promise<void>;
}

/** What a nonce binds: the `/forget` confirmation, or the delete buttons of a `/history` listing. */
export type NoncePurpose = 'forget' | 'history';

/**
 * Nonces that bind buttons which change or delete data to the person they were offered to: a
 * press is honoured only if its nonce is the one live for the pressing person, so a copied or
 * forged button does nothing. Entries expire on their own (the implementation decides when). A
 * forget may remove them, but only after everything else: a `/forget` press retried after the
 * consent record is gone must still be honoured until the forget has finished.
 */
export interface ButtonNonces {
  /**
   * Makes `proposed` the live nonce of `userId` for `purpose`, replacing an earlier one, and returns
   * it; if the live one was issued by this same `turnKey` (the event handled again), that one is
   * kept and returned, so a retried turn shows the buttons it already showed.
   */
  issue(userId: string, purpose: NoncePurpose, turnKey: string, proposed: string): Promise<string>;
  /** The live nonce of `userId` for `purpose`; null if none was issued, or it expired or was replaced. */
  live(userId: string, purpose: NoncePurpose): Promise<string | null>;
}

/** Whether a message may be answered by the model: `ok`, or the limit it is over. */
export type LimitVerdict = 'ok' | 'rate' | 'daily_tokens';

/** Abuse and cost limits per person (shared by all workers). Implementations fail open on errors. */
export interface UsageLimits {
  /** Counts a message (once per `turnKey`) and checks the per-minute rate and today's token budget. */
  admit(userId: string, turnKey: string): Promise<LimitVerdict>;
  addTokens(userId: string, tokens: number): Promise<void>;
}

/**
 * Operator commands (`/admin …`) for allowlisted people. The conversation only routes: whoever is
 * not allowlisted gets the ordinary unknown-command answer, so the console is not advertised. The
 * implementation audits every access, allowed or not.
 */
export interface AdminConsole {
  isAdmin(userId: string): boolean;
  /** Runs `args` for an admin; the answer is plain text with ids and counts only. */
  run(userId: string, args: string, turnKey: string): Promise<string>;
  /** Records a refused attempt (someone not allowlisted sent `/admin`). */
  refused(userId: string, turnKey: string): Promise<void>;
}

/**
 * Crisis detection as the conversation needs it (the safety package's CrisisDetector, see
 * `crisisCheck`). Throws SafetyCheckUnavailableError when the level cannot be known now.
 */
export interface SafetyCheck {
  assess(text: string): Promise<{ level: 'none' | 'low' | 'high'; sources: readonly string[] }>;
}

export interface ConversationOptions {
  model: ChatProvider;
  /**
   * A cheaper model for simple messages (greetings, thanks, short acknowledgements; see
   * `isSimpleMessage`). When it fails, the main model answers.
   */
  lightModel?: ChatProvider;
  memory: ConversationMemory;
  consents: ConsentMemory;
  selfChecks: SelfCheckMemory;
  /** Runs before the model on every text of a consented person. */
  safety: SafetyCheck;
  sessions: SessionMemory;
  contextCache?: ContextCache;
  dataRights?: DataRights;
  /** Without it, `/forget` is unavailable and `/history` offers no delete buttons. */
  buttonNonces?: ButtonNonces;
  admin?: AdminConsole;
  limits?: UsageLimits;
  /** How many of its latest messages a session keeps for prompts and its summary. Default 60. */
  historyMessages?: number;
  /** Tokens (estimated) of earlier turns the prompt may carry; the oldest go first. Default 3000. */
  historyTokenBudget?: number;
  /** Silence after which a session ends and the next message starts a new one. Default 30 minutes. */
  sessionInactivityMs?: number;
  /** Model tokens a session may spend before it is summarized and a fresh one begins. Default 40,000. */
  sessionTokenBudget?: number;
  llmTimeoutMs: number;
  maxOutputTokens?: number;
  /**
   * Who receives a person's messages for processing (e.g. "Google (Gemini API)", "OpenAI"), named in
   * the consent question; the worker derives them from the configured LLM chains.
   */
  dataProcessors?: readonly string[];
  /**
   * How long /sos and a text the phrase list rates high wait for the consent record before they are
   * answered without it (the crisis reply needs no storage); default 1.5 s.
   */
  urgentStorageWaitMs?: number;
  /** Absence after which the AI disclosure is shown again; default 7 days. */
  disclosureAfterMs?: number;
  now?: () => Date;
}
