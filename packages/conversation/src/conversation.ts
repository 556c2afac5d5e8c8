import type { ChatProvider, ChatTurn } from '@inner-talk/llm';
import { SYSTEM_PROMPT } from './system-prompt';
import { HOTLINES } from '@inner-talk/safety';
import { TEXTS, type Locale } from './locales';

function hotlineList(locale: Locale): string {
  return HOTLINES[locale].map((h) => `• ${h.label}: ${h.number}`).join('\n');
}

/** What the conversation needs from storage. The MongoDB store implements it. */
export interface ConversationMemory {
  touchUser(id: string, locale: string, now: Date): Promise<void>;
  saveMessage(message: { userId: string; turnKey: string; role: 'user' | 'assistant'; text: string; at: Date }): Promise<void>;
  findReply(userId: string, turnKey: string): Promise<string | null>;
  recentMessages(userId: string, limit: number): Promise<ReadonlyArray<{ role: 'user' | 'assistant'; text: string; turnKey: string }>>;
  /** Stores that a message showed risk: when, how high, which layer — never the text. Idempotent per turn. */
  recordRiskEvent(event: { userId: string; turnKey: string; level: 'low' | 'high'; sources: readonly string[]; at: Date }): Promise<void>;
}

/** Crisis detection as the conversation needs it (the safety package's CrisisDetector). */
export interface SafetyCheck {
  assess(text: string): Promise<{ level: 'none' | 'low' | 'high'; sources: readonly string[] }>;
}

/** Something a person did, in channel-neutral terms. */
export type Incoming =
  | { kind: 'start'; userId: string; locale: Locale }
  | { kind: 'text'; userId: string; locale: Locale; text: string; turnKey: string }
  /** A message kind we do not read yet (photo, voice, sticker…). */
  | { kind: 'unsupported'; userId: string; locale: Locale }
  /** The person asked for crisis contacts (/sos). Always answered, without the model. */
  | { kind: 'sos'; userId: string; locale: Locale };

/** What to send back, in order. */
export interface Reply {
  text: string;
}

export interface ConversationOptions {
  model: ChatProvider;
  memory: ConversationMemory;
  /** Runs before the model on every text; without it no crisis check is made (tests of other parts). */
  safety?: SafetyCheck;
  /** How many earlier messages go into the prompt. */
  historyMessages?: number;
  llmTimeoutMs: number;
  maxOutputTokens?: number;
  now?: () => Date;
}

/**
 * The conversation core: turns what a person did into replies. It knows nothing of Telegram or
 * queues; the channel adapter translates.
 *
 * Guarantees: handling the same `turnKey` twice produces the same reply and calls the model at most
 * once after the reply was stored (a retried job re-sends the stored reply instead of asking again).
 * Model failures propagate as ProviderError for the caller's retry policy.
 */
export class Conversation {
  private readonly now: () => Date;

  constructor(private readonly options: ConversationOptions) {
    this.now = options.now ?? (() => new Date());
  }

  async handle(incoming: Incoming): Promise<Reply[]> {
    const texts = TEXTS[incoming.locale];
    switch (incoming.kind) {
      case 'start':
        await this.options.memory.touchUser(incoming.userId, incoming.locale, this.now());
        return [{ text: texts.greeting }];
      case 'text':
        if (incoming.text.trim() === '') return [{ text: texts.emptyMessage }];
        return this.answer(incoming);
      case 'unsupported':
        return [{ text: texts.emptyMessage }];
      case 'sos':
        return [{ text: `${texts.sos}\n\n${hotlineList(incoming.locale)}\n\n${texts.crisisOutro}` }];
    }
  }

  private async answer(incoming: Extract<Incoming, { kind: 'text' }>): Promise<Reply[]> {
    const { memory } = this.options;
    const { userId, turnKey } = incoming;
    const stored = await memory.findReply(userId, turnKey);
    if (stored !== null) return [{ text: stored }];

    // Safety first, before any model reply: a high risk gets the crisis reply only (no generated
    // text that could go wrong), a low one a caring reply followed by the contacts.
    const risk = this.options.safety ? await this.options.safety.assess(incoming.text) : { level: 'none' as const, sources: [] };
    if (risk.level !== 'none') {
      await memory.recordRiskEvent({ userId, turnKey, level: risk.level, sources: risk.sources, at: this.now() });
    }
    const texts = TEXTS[incoming.locale];
    const contacts = (intro: string) => `${intro}\n\n${hotlineList(incoming.locale)}\n\n${texts.crisisOutro}`;
    if (risk.level === 'high') {
      const reply = contacts(texts.crisisHigh);
      await memory.touchUser(userId, incoming.locale, this.now());
      await memory.saveMessage({ userId, turnKey, role: 'user', text: incoming.text, at: this.now() });
      await memory.saveMessage({ userId, turnKey, role: 'assistant', text: reply, at: this.now() });
      return [{ text: reply }];
    }
    const answer = await this.modelReply(incoming);
    return risk.level === 'low' ? [{ text: answer }, { text: contacts(texts.crisisLow) }] : [{ text: answer }];
  }

  private async modelReply(incoming: Extract<Incoming, { kind: 'text' }>): Promise<string> {
    const { memory, model } = this.options;
    const { userId, turnKey } = incoming;

    await memory.touchUser(userId, incoming.locale, this.now());
    // A retried turn may already have stored its user message: keep it out of the history.
    const history = (await memory.recentMessages(userId, this.options.historyMessages ?? 12)).filter((m) => m.turnKey !== turnKey);
    await memory.saveMessage({ userId, turnKey, role: 'user', text: incoming.text, at: this.now() });

    const turns: ChatTurn[] = [...history.map((m) => ({ role: m.role, text: m.text })), { role: 'user', text: incoming.text }];
    const result = await model.complete({
      system: SYSTEM_PROMPT,
      turns,
      timeoutMs: this.options.llmTimeoutMs,
      maxOutputTokens: this.options.maxOutputTokens ?? 600,
    });
    await memory.saveMessage({ userId, turnKey, role: 'assistant', text: result.text, at: this.now() });
    return result.text;
  }
}
