/** The parts of a Telegram message that decide how it is read (a subset of grammY's `Message`). */
export interface ReadableMessage {
  text?: string;
  caption?: string;
  entities?: readonly { type: string; offset: number; length: number }[];
}

/**
 * What the person wrote: the text, or the caption of a photo, video or document (the caption is
 * the person's words about it). Undefined when there is neither.
 */
export function writtenText(message: ReadableMessage): string | undefined {
  return message.text ?? message.caption;
}

/**
 * The command of a text message (`/test`, `/test@InnerTalkBot` → `test`), else null. A command is
 * what Telegram marks as one: a `bot_command` entity at offset 0, not any text starting with `/`
 * (Telegram marks `/help` but not `/ help`). Captions never carry commands for us.
 */
export function commandOf(message: ReadableMessage): string | null {
  const entity = message.entities?.[0];
  if (entity?.type !== 'bot_command' || entity.offset !== 0 || message.text === undefined) return null;
  return message.text.slice(1, entity.length).split('@')[0]!.toLowerCase();
}
