import { ProviderError } from '@inner-talk/llm';
import { checkReply, classifyByPhrases } from '@inner-talk/safety';
import { SafetyCheckUnavailableError, TurnDeferredError } from '../errors';
import { isSimpleMessage } from '../simple-messages';
import type { Reply, SessionState } from '../types';
import { assemblePrompt, longTermContext } from './context';
import { retriedPreface, sessionForCrisis, sessionForText } from './sessions';
import { crisisReply, type Turn } from './turn';

const DEFAULT_HISTORY_TOKEN_BUDGET = 3_000;
/** Messages a session keeps for prompts and its summary (the token budget decides what a prompt takes). */
const SESSION_MESSAGES_KEPT = 60;

/**
 * Free text of a consented person: limits, crisis check, session, then the model.
 *
 * Guarantees: handling the same turn twice produces the same replies and calls the model at most
 * once after the reply was stored (a retried job re-sends the stored reply). A high risk gets the
 * crisis reply only — no generated text that could go wrong — and a low one a caring model reply
 * followed by the contacts; either stores a text-free risk event. A person over the message rate or
 * the daily token budget gets a friendly note instead of a model reply, unless the offline phrase
 * list sees risk: then the crisis reply, limits or not. When the crisis check cannot ask its model,
 * nothing is stored and TurnDeferredError (`safety_unchecked`) carries the crisis contacts for the
 * person now; the turn is answered when it runs again. A reply the model refuses (a content filter)
 * becomes a fixed supportive text with the contacts, stored like a reply. Other model failures
 * propagate as ProviderError for the caller's retry policy.
 */
export async function talk(turn: Turn<'text'>): Promise<Reply[]> {
  const { memory, limits } = turn.deps;
  const { userId, turnKey, locale, texts, now, incoming } = turn;
  if (incoming.text.trim() === '') return [{ text: texts.emptyMessage }];
  const stored = await memory.findReply(userId, turnKey);
  // Replies are counted by position when a turn is re-run, so a retry repeats the preface too.
  if (stored !== null) return [...(await retriedTurn(turn, stored)), { text: stored }];

  if (limits) {
    const verdict = await limits.admit(userId, turnKey);
    if (verdict !== 'ok') {
      // Limits cut cost, never care: risk seen offline still gets the crisis reply (nothing stored).
      const offline = classifyByPhrases(incoming.text);
      if (offline.level !== 'none') return [crisisReply(offline.level === 'high' ? texts.crisisHigh : texts.crisisLow, locale, texts)];
      return [{ text: verdict === 'rate' ? texts.rateLimited : texts.dailyBudgetReached }];
    }
  }

  // The open session does not depend on the crisis check: read it while the classifier runs. (A
  // failed read surfaces where it is awaited; the catch only keeps it from counting as unhandled.)
  const openSession = turn.deps.sessions.activeSession(userId);
  openSession.catch(() => undefined);
  const assessed = await assessOrDefer(turn);
  const active = await openSession;
  const risk = withEarlierMessage(turn, assessed, active);
  if (risk.level !== 'none') {
    await memory.recordRiskEvent({ userId, turnKey, level: risk.level, sources: risk.sources, at: now });
  }
  if (risk.level === 'high') {
    const session = await sessionForCrisis(turn, active);
    const reply = crisisReply(texts.crisisHigh, locale, texts);
    await memory.saveMessages([
      { userId, turnKey, role: 'user', text: incoming.text, at: now, sessionId: session.id },
      { userId, turnKey, role: 'assistant', text: reply.text, at: new Date(now.getTime() + 1), sessionId: session.id },
    ]);
    await recordTurn(turn, session, reply.text, new Date(now.getTime() + 1), 0);
    return [reply];
  }
  const { session, preface } = await sessionForText(turn, active);
  const answer = await modelReply(turn, session);
  return [...preface, { text: answer }, ...(risk.level === 'low' ? [crisisReply(texts.crisisLow, locale, texts)] : [])];
}

/**
 * People split a sentence over several messages ("i dont want to" / "wake up ever again"). Rapid
 * messages already waiting are merged into one turn, but halves a few seconds apart are separate
 * turns, and each half alone may say nothing. So the offline phrase list also reads this message
 * after the person's previous one in the session, when that came within this window.
 */
const SPLIT_STATEMENT_WINDOW_MS = 2 * 60_000;

/** `risk`, raised to high when this message read after the previous one in the window is high offline. */
function withEarlierMessage(turn: Turn<'text'>, risk: Awaited<ReturnType<Turn['deps']['safety']['assess']>>, session: SessionState | null) {
  if (risk.level === 'high' || !session || turn.now.getTime() - session.lastMessageAt.getTime() > SPLIT_STATEMENT_WINDOW_MS) return risk;
  const earlier = session.recent.filter((m) => m.role === 'user' && m.turnKey !== turn.turnKey).at(-1);
  // An earlier message that was high by itself has had its crisis reply; only a statement the two
  // halves make together raises this one.
  if (!earlier || classifyByPhrases(earlier.text).level === 'high') return risk;
  if (classifyByPhrases(`${earlier.text}\n${turn.incoming.text}`).level !== 'high') return risk;
  return { level: 'high' as const, sources: [...new Set([...risk.sources, 'phrases'])] };
}

/** The crisis check; when it cannot run, the person gets the contacts now and the turn waits. */
async function assessOrDefer(turn: Turn<'text'>): ReturnType<Turn['deps']['safety']['assess']> {
  try {
    return await turn.deps.safety.assess(turn.incoming.text);
  } catch (error) {
    if (!(error instanceof SafetyCheckUnavailableError)) throw error;
    const { texts, locale } = turn;
    throw new TurnDeferredError('safety_unchecked', [crisisReply(texts.safetyUnchecked, locale, texts, texts.safetyUncheckedOutro)], error.retryAt, { cause: error });
  }
}

/** The fixed supportive text with the contacts, for a reply we cannot send as the model wrote it. */
function supportiveFallback(turn: Turn<'text'>): string {
  return crisisReply(turn.texts.replyRefused, turn.locale, turn.texts).text;
}

/**
 * The model's answer; or the fixed supportive text with the contacts when the model refuses to
 * answer, or when its answer fails the reply check (method, means, dose or instructions for harm:
 * model text is never trusted to be safe for a person who may be in crisis).
 */
async function modelAnswer(turn: Turn<'text'>, request: Parameters<Turn['deps']['model']['complete']>[0]): Promise<{ text: string; tokens: number }> {
  const { model } = turn.deps;
  const light = turn.deps.lightModel;
  try {
    // Simple messages go to the cheaper tier; if it cannot answer, the main model does.
    const result = light && isSimpleMessage(turn.incoming.text) ? await light.complete(request).catch(() => model.complete(request)) : await model.complete(request);
    const tokens = result.usage.inputTokens + result.usage.outputTokens;
    return { text: checkReply(result.text).unsafe ? supportiveFallback(turn) : result.text, tokens };
  } catch (error) {
    // A refusal is the provider's judgement on the content: asking again would get the same answer,
    // and "something went wrong" would read as being turned away. The contacts go with it.
    if (error instanceof ProviderError && error.kind === 'refused') return { text: supportiveFallback(turn), tokens: 0 };
    throw error;
  }
}

async function modelReply(turn: Turn<'text'>, session: SessionState): Promise<string> {
  const sessionId = session.id;
  const { memory, limits } = turn.deps;
  const { userId, turnKey, now, incoming } = turn;

  // The session keeps its latest messages, so the history is one read by id (done by the caller).
  const history = session.recent.filter((m) => m.turnKey !== turnKey);

  const prompt = assemblePrompt(await longTermContext(turn), history, incoming.text, turn.deps.historyTokenBudget ?? DEFAULT_HISTORY_TOKEN_BUDGET);
  const request = { ...prompt, timeoutMs: turn.deps.llmTimeoutMs, maxOutputTokens: turn.deps.maxOutputTokens ?? 600 };
  const result = await modelAnswer(turn, request);
  // The reply is timed strictly after the person's message, so history never shows the two out of
  // order. Both are stored in one round trip once the reply exists: until then the message waits in
  // the chat's inbox, and a retried turn stores it then.
  const answeredAt = new Date(Math.max(turn.clock().getTime(), now.getTime() + 1));
  await memory.saveMessages([
    { userId, turnKey, role: 'user', text: incoming.text, at: now, sessionId },
    { userId, turnKey, role: 'assistant', text: result.text, at: answeredAt, sessionId },
  ]);
  const tokens = result.tokens;
  await recordTurn(turn, session, result.text, answeredAt, tokens);
  await limits?.addTokens(userId, tokens);
  return result.text;
}

/**
 * The person's message and our reply join the session's recent messages (the newest
 * `historyMessages` stay). `session` is what this turn read; a copy of this turn already in it is
 * replaced, so recording a turn twice changes nothing.
 */
async function recordTurn(turn: Turn<'text'>, session: SessionState, reply: string, at: Date, tokens: number): Promise<void> {
  const recent = [
    ...session.recent.filter((m) => m.turnKey !== turn.turnKey),
    { role: 'user' as const, text: turn.incoming.text, turnKey: turn.turnKey },
    { role: 'assistant' as const, text: reply, turnKey: turn.turnKey },
  ].slice(-(turn.deps.historyMessages ?? SESSION_MESSAGES_KEPT));
  await turn.deps.sessions.recordTurn({ id: session.id, at, tokens, recent });
}

/**
 * A turn whose reply was stored before it was re-run: what it showed before the reply, and the
 * turn recorded in the session if the first run stopped before that.
 */
async function retriedTurn(turn: Turn<'text'>, stored: string): Promise<Reply[]> {
  const active = await turn.deps.sessions.activeSession(turn.userId);
  if (active && !active.recent.some((m) => m.turnKey === turn.turnKey)) await recordTurn(turn, active, stored, turn.now, 0);
  return retriedPreface(turn, active);
}
