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
  | (IncomingBase & { kind: 'command'; name: string })
  | (IncomingBase & { kind: 'text'; text: string })
  /** The person chose a button; `action` is what the button carried (may be stale, foreign or forged). */
  | (IncomingBase & { kind: 'choice'; action: string })
  /** A message kind we do not read yet (photo, voice, sticker…). */
  | (IncomingBase & { kind: 'unsupported' });

/** What the conversation needs from message storage. The MongoDB ConversationStore implements it. */
export interface ConversationMemory {
  touchUser(id: string, locale: string, now: Date): Promise<void>;
  saveMessage(message: { userId: string; turnKey: string; role: 'user' | 'assistant'; text: string; at: Date }): Promise<void>;
  findReply(userId: string, turnKey: string): Promise<string | null>;
  recentMessages(userId: string, limit: number): Promise<ReadonlyArray<{ role: 'user' | 'assistant'; text: string; turnKey: string }>>;
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

/** Crisis detection as the conversation needs it (the safety package's CrisisDetector). */
export interface SafetyCheck {
  assess(text: string): Promise<{ level: 'none' | 'low' | 'high'; sources: readonly string[] }>;
}

export interface ConversationOptions {
  model: ChatProvider;
  memory: ConversationMemory;
  consents: ConsentMemory;
  selfChecks: SelfCheckMemory;
  /** Runs before the model on every text of a consented person. */
  safety: SafetyCheck;
  /** How many earlier messages go into the prompt. */
  historyMessages?: number;
  llmTimeoutMs: number;
  maxOutputTokens?: number;
  /** Absence after which the AI disclosure is shown again; default 7 days. */
  disclosureAfterMs?: number;
  now?: () => Date;
}
