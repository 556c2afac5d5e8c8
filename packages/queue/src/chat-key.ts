/**
 * The conversation an update belongs to, as a string: the chat id for messages, edits, callback
 * queries and membership changes; the sender for chat-less updates (inline queries…); and
 * `u<update_id>` when an update names neither (each such update is then its own conversation).
 * Updates with the same key are handled one at a time, in the order Telegram sent them.
 */
export function chatKeyOf(update: { update_id: number } & Record<string, unknown>): string {
  for (const value of Object.values(update)) {
    if (typeof value !== 'object' || value === null) continue;
    const record = value as { chat?: { id?: unknown }; message?: { chat?: { id?: unknown } }; from?: { id?: unknown }; user?: { id?: unknown } };
    const id = record.chat?.id ?? record.message?.chat?.id ?? record.from?.id ?? record.user?.id;
    if (typeof id === 'number' && Number.isSafeInteger(id)) return String(id);
  }
  return `u${update.update_id}`;
}
