import { classifyByPhrases } from '@inner-talk/safety';
import type { Reply } from '../types';
import { crisisReply, type Turn } from './turn';

/**
 * An edited message. People sometimes rewrite what they said into what they really mean, and an
 * edit that now speaks of ending one's life must not meet silence. So the edited text is checked
 * for crisis risk; any risk gets the crisis reply (and a consented person's text-free risk event is
 * stored), and any other edit is ignored without a word (the conversation does not re-answer edits).
 *
 * Before consent only the offline phrase list reads the text and nothing is stored; after consent
 * the full crisis check runs (the model layer too; it fails closed). The text itself is never
 * stored or sent to a chat model. Handling the same edit twice gives the same replies (the risk
 * event is idempotent per turn).
 */
export async function editedMessage(turn: Turn<'edit'>): Promise<Reply[]> {
  const { incoming, consent, texts, locale } = turn;
  if (incoming.text.trim() === '') return [];
  if (consent?.step !== 'consented') {
    const offline = classifyByPhrases(incoming.text);
    return offline.level === 'none' ? [] : [crisisReply(offline.level === 'high' ? texts.crisisHigh : texts.crisisLow, locale, texts)];
  }
  const risk = await turn.deps.safety.assess(incoming.text);
  if (risk.level === 'none') return [];
  await turn.deps.memory.recordRiskEvent({ userId: turn.userId, turnKey: turn.turnKey, level: risk.level, sources: risk.sources, at: turn.now });
  return [crisisReply(risk.level === 'high' ? texts.crisisHigh : texts.crisisLow, locale, texts)];
}
