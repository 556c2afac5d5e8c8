import type { ChatTurn } from '@inner-talk/llm';
import { SYSTEM_PROMPT } from '../system-prompt';
import type { Reply } from '../types';
import { crisisReply, type Turn } from './turn';

/**
 * Free text of a consented person: crisis check first, then the model.
 *
 * Guarantees: handling the same turn twice produces the same reply and calls the model at most once
 * after the reply was stored (a retried job re-sends the stored reply). A high risk gets the crisis
 * reply only — no generated text that could go wrong — and a low one a caring model reply followed
 * by the contacts; either stores a text-free risk event. Model failures propagate as ProviderError
 * for the caller's retry policy.
 */
export async function talk(turn: Turn<'text'>): Promise<Reply[]> {
  const { memory, safety } = turn.deps;
  const { userId, turnKey, locale, texts, now, incoming } = turn;
  if (incoming.text.trim() === '') return [{ text: texts.emptyMessage }];
  const stored = await memory.findReply(userId, turnKey);
  if (stored !== null) return [{ text: stored }];

  const risk = await safety.assess(incoming.text);
  if (risk.level !== 'none') {
    await memory.recordRiskEvent({ userId, turnKey, level: risk.level, sources: risk.sources, at: now });
  }
  if (risk.level === 'high') {
    const reply = crisisReply(texts.crisisHigh, locale, texts);
    await memory.touchUser(userId, locale, now);
    await memory.saveMessage({ userId, turnKey, role: 'user', text: incoming.text, at: now });
    await memory.saveMessage({ userId, turnKey, role: 'assistant', text: reply.text, at: new Date(now.getTime() + 1) });
    return [reply];
  }
  const answer = await modelReply(turn);
  return risk.level === 'low' ? [{ text: answer }, crisisReply(texts.crisisLow, locale, texts)] : [{ text: answer }];
}

async function modelReply(turn: Turn<'text'>): Promise<string> {
  const { memory, model } = turn.deps;
  const { userId, turnKey, locale, now, incoming } = turn;

  await memory.touchUser(userId, locale, now);
  // A retried turn may already have stored its user message: keep it out of the history.
  const history = (await memory.recentMessages(userId, turn.deps.historyMessages ?? 12)).filter((m) => m.turnKey !== turnKey);
  await memory.saveMessage({ userId, turnKey, role: 'user', text: incoming.text, at: now });

  const turns: ChatTurn[] = [...history.map((m) => ({ role: m.role, text: m.text })), { role: 'user', text: incoming.text }];
  const result = await model.complete({
    system: SYSTEM_PROMPT,
    turns,
    timeoutMs: turn.deps.llmTimeoutMs,
    maxOutputTokens: turn.deps.maxOutputTokens ?? 600,
  });
  // Stored strictly after the person's message, so history never shows the two out of order.
  const answeredAt = new Date(Math.max(turn.clock().getTime(), now.getTime() + 1));
  await memory.saveMessage({ userId, turnKey, role: 'assistant', text: result.text, at: answeredAt });
  return result.text;
}
