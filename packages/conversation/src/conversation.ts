import type { ChatProvider, ChatTurn } from '@inner-talk/llm';
import { SYSTEM_PROMPT } from './system-prompt';
import { TEXTS, type Locale } from './locales';

/** What the conversation needs from storage. The MongoDB store implements it. */
export interface ConversationMemory {
  touchUser(id: string, locale: string, now: Date): Promise<void>;
  saveMessage(message: { userId: string; turnKey: string; role: 'user' | 'assistant'; text: string; at: Date }): Promise<void>;
  findReply(userId: string, turnKey: string): Promise<string | null>;
  recentMessages(userId: string, limit: number): Promise<ReadonlyArray<{ role: 'user' | 'assistant'; text: string; turnKey: string }>>;
}

/** Something a person did, in channel-neutral terms. */
export type Incoming =
  | { kind: 'start'; userId: string; locale: Locale }
  | { kind: 'text'; userId: string; locale: Locale; text: string; turnKey: string }
  /** A message kind we do not read yet (photo, voice, sticker…). */
  | { kind: 'unsupported'; userId: string; locale: Locale };

/** What to send back, in order. */
export interface Reply {
  text: string;
}

export interface ConversationOptions {
  model: ChatProvider;
  memory: ConversationMemory;
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
        return [{ text: await this.answer(incoming) }];
      case 'unsupported':
        return [{ text: texts.emptyMessage }];
    }
  }

  private async answer(incoming: Extract<Incoming, { kind: 'text' }>): Promise<string> {
    const { memory, model } = this.options;
    const { userId, turnKey } = incoming;
    const stored = await memory.findReply(userId, turnKey);
    if (stored !== null) return stored;

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
