import { checkReply } from '@inner-talk/safety';
import { encodeAction, newNonce, runIdFor } from '../actions';
import { fill, formatDate } from '../locales';
import { SUMMARY_PROMPT } from '../system-prompt';
import type { Reply, SessionEndReason, SessionState } from '../types';
import { invalidateContext } from './context';
import type { TurnContext } from './turn';

const MINUTE_MS = 60_000;
/** Messages of a session the summary is written from (the newest, if there are more). */
const SUMMARY_SOURCE_MESSAGES = 60;
/** Summaries `/history` lists. */
const HISTORY_LIMIT = 10;

export const DEFAULT_SESSION_INACTIVITY_MS = 30 * MINUTE_MS;
export const DEFAULT_SESSION_TOKEN_BUDGET = 40_000;

/**
 * Writes the summary ("konspekt") of a session with the model: themes, feelings, what helped, a
 * gentle next step. Null when the session holds no messages (nothing to sum up). Model failures
 * propagate (the caller's retry policy applies; nothing was ended yet).
 */
async function summarize(turn: TurnContext, session: SessionState): Promise<string | null> {
  const { model } = turn.deps;
  const messages = session.recent.slice(-SUMMARY_SOURCE_MESSAGES);
  if (messages.length === 0) return null;
  const transcript = messages.map((m) => `${m.role === 'user' ? 'Person' : 'Inner Talk'}: ${m.text}`).join('\n');
  const result = await model.complete({
    system: SUMMARY_PROMPT[turn.locale],
    turns: [{ role: 'user', text: transcript }],
    timeoutMs: turn.deps.llmTimeoutMs,
    maxOutputTokens: 400,
  });
  const summary = result.text.trim();
  // A summary is shown and fed to later prompts: one that fails the reply check (a method, a dose)
  // is not kept; the session ends without one.
  return summary !== '' && !checkReply(summary).unsafe ? summary : null;
}

/**
 * Ends `session` with a summary. Idempotent: if the session had already ended (a retry, a race),
 * the stored outcome stands and is returned.
 */
export async function endSession(turn: TurnContext, session: SessionState, reason: SessionEndReason): Promise<SessionState> {
  const { sessions } = turn.deps;
  if (session.status === 'active') {
    const summary = await summarize(turn, session);
    await sessions.end({ id: session.id, at: turn.now, reason, turnKey: turn.turnKey, summary });
    if (summary !== null) await invalidateContext(turn);
  }
  return (await sessions.session(turn.userId, session.id)) ?? session;
}

/** How a summary is shown when a session ends. */
export function summaryReply(turn: TurnContext, session: SessionState, intro: string): Reply[] {
  if (!session.summary) return [];
  return [{ text: `${intro}\n\n${session.summary}\n\n${turn.texts.summaryFooter}` }];
}

/**
 * The session a text belongs to, and what to show before the answer. Continues the active session;
 * ends it first (summary shown) when it has been silent longer than the inactivity limit or spent
 * its token budget, and starts a new one. Deterministic under retries: the session started by this
 * event remembers the one it followed, so a retried turn shows the same summary again before its
 * answer (the delivery ledger counts messages by position). `active` is the person's open session
 * as this turn read it (read here when not given).
 */
export async function sessionForText(turn: TurnContext, active?: SessionState | null): Promise<{ session: SessionState; preface: Reply[] }> {
  const inactivityMs = turn.deps.sessionInactivityMs ?? DEFAULT_SESSION_INACTIVITY_MS;
  const budget = turn.deps.sessionTokenBudget ?? DEFAULT_SESSION_TOKEN_BUDGET;
  if (active === undefined) active = await turn.deps.sessions.activeSession(turn.userId);
  if (active && active.startedByTurn === turn.turnKey) return { session: active, preface: await prefaceOf(turn, active) };
  if (active && turn.now.getTime() - active.lastMessageAt.getTime() < inactivityMs && active.tokens < budget) return { session: active, preface: [] };
  let previous: SessionState | null = null;
  if (active) previous = await endSession(turn, active, active.tokens >= budget ? 'budget' : 'inactivity');
  const session = await startSession(turn, previous);
  return { session, preface: previous ? endedPreface(turn, previous) : [] };
}

/**
 * What a retried turn whose reply is already stored showed before that reply: the summary of the
 * session this event ended, if it started `active` (the person's open session, read by the caller).
 * Ends nothing.
 */
export async function retriedPreface(turn: TurnContext, active: SessionState | null): Promise<Reply[]> {
  return active?.startedByTurn === turn.turnKey ? prefaceOf(turn, active) : [];
}

/**
 * The session for a message that gets the crisis reply: the open one whatever its age, or a new
 * one. Nothing is summarized here, so the safety reply comes first and alone; an old session ends
 * at the next ordinary message. `active` as for sessionForText.
 */
export async function sessionForCrisis(turn: TurnContext, active?: SessionState | null): Promise<SessionState> {
  if (active === undefined) active = await turn.deps.sessions.activeSession(turn.userId);
  return active ?? startSession(turn, null);
}

/**
 * Starts the session this event opens (after `previous`, if it ended one). The person's user record
 * is created or refreshed here, once per session rather than on every message: each message belongs
 * to a session, so the record exists before any message is stored.
 */
async function startSession(turn: TurnContext, previous: SessionState | null): Promise<SessionState> {
  await turn.deps.memory.touchUser(turn.userId, turn.locale, turn.now);
  return turn.deps.sessions.start({ id: sessionIdFor(turn), userId: turn.userId, at: turn.now, turnKey: turn.turnKey, previousSessionId: previous?.id ?? null });
}

/** The preface of a session started by this event (a retried turn): the summary of the one it ended. */
async function prefaceOf(turn: TurnContext, session: SessionState): Promise<Reply[]> {
  if (!session.previousSessionId) return [];
  const previous = await turn.deps.sessions.session(turn.userId, session.previousSessionId);
  return previous && previous.endedByTurn === turn.turnKey ? endedPreface(turn, previous) : [];
}

function endedPreface(turn: TurnContext, ended: SessionState): Reply[] {
  const intro = ended.endReason === 'budget' ? turn.texts.sessionBudgetSummary : turn.texts.sessionEndedSummary;
  return summaryReply(turn, ended, intro);
}

const sessionIdFor = (turn: TurnContext) => `s${runIdFor(turn.userId, turn.turnKey)}`;

/** `/end`: ends the active session and shows its summary; a retried `/end` shows the same one. */
export async function endCommand(turn: TurnContext): Promise<Reply[]> {
  const { sessions } = turn.deps;
  const active = await sessions.activeSession(turn.userId);
  let ended: SessionState | null;
  if (active) ended = await endSession(turn, active, 'command');
  else {
    const last = await sessions.lastEnded(turn.userId);
    ended = last?.endedByTurn === turn.turnKey ? last : null;
  }
  if (!ended) return [{ text: turn.texts.noActiveSession }];
  return ended.summary ? summaryReply(turn, ended, turn.texts.sessionSummaryIntro) : [{ text: turn.texts.sessionEndedEmpty }];
}

/** `/session`: a fresh start. The current session, if it has anything in it, is summarized first. */
export async function newSessionCommand(turn: TurnContext): Promise<Reply[]> {
  const { sessions } = turn.deps;
  const active = await sessions.activeSession(turn.userId);
  if (active?.startedByTurn === turn.turnKey) return [...(await prefaceOf(turn, active)), { text: turn.texts.sessionStarted }];
  const previous = active ? await endSession(turn, active, 'new_session') : null;
  await startSession(turn, previous);
  const preface = previous ? summaryReply(turn, previous, turn.texts.sessionSummaryIntro) : [];
  return [...preface, { text: turn.texts.sessionStarted }];
}

/**
 * `/history`: the summaries, newest first, each with its own delete button. The buttons carry a
 * nonce of this listing kept for the person (see ButtonNonces): a newer `/history` retires them, and
 * a copied or forged one deletes nothing. Without a nonce store the listing has no buttons.
 */
export async function historyCommand(turn: TurnContext): Promise<Reply[]> {
  const list = await turn.deps.sessions.summaries(turn.userId, HISTORY_LIMIT);
  if (list.length === 0) return [{ text: turn.texts.historyEmpty }];
  const nonces = turn.deps.buttonNonces;
  const nonce = nonces ? await nonces.issue(turn.userId, 'history', turn.turnKey, newNonce()) : null;
  return [
    { text: fill(turn.texts.historyIntro, { count: list.length }) },
    ...list.map((s) => ({
      text: `${formatDate(s.endedAt ?? s.startedAt, turn.locale)}\n${s.summary ?? ''}`,
      ...(nonce !== null && { buttons: [[{ label: turn.texts.historyDeleteButton, action: encodeAction({ kind: 'delete_summary', sessionId: s.id, nonce }) }]] }),
    })),
  ];
}

/**
 * A summary's delete button: honoured only with the nonce of the person's latest `/history`.
 * Someone else's, an already deleted summary or a retired listing changes nothing.
 */
export async function deleteSummary(turn: TurnContext, sessionId: string, nonce: string): Promise<Reply[]> {
  const live = (await turn.deps.buttonNonces?.live(turn.userId, 'history')) ?? null;
  if (live === null || nonce !== live) return [{ text: turn.texts.staleChoice }];
  const deleted = await turn.deps.sessions.delete(turn.userId, sessionId);
  if (deleted) await invalidateContext(turn);
  return [{ text: deleted ? turn.texts.summaryDeleted : turn.texts.summaryAlreadyDeleted }];
}
