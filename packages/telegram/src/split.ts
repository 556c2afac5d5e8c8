/** Telegram's limit for one text message, in UTF-16 code units. */
export const TELEGRAM_TEXT_LIMIT = 4096;

/**
 * Splits `text` into parts of at most `limit` UTF-16 units, preferring paragraph, then line, then
 * sentence, then word boundaries, and never cutting a surrogate pair. Concatenating the parts
 * (with the whitespace at the cut points) gives the original text; no part is empty.
 */
export function splitMessage(text: string, limit = TELEGRAM_TEXT_LIMIT): string[] {
  const parts: string[] = [];
  let rest = text;
  while (rest.length > limit) {
    const window = rest.slice(0, limit);
    let cut = Math.max(window.lastIndexOf('\n\n'), -1);
    if (cut < limit / 2) cut = Math.max(cut, window.lastIndexOf('\n'));
    if (cut < limit / 2) cut = Math.max(cut, window.lastIndexOf('. ') + 1, window.lastIndexOf('! ') + 1, window.lastIndexOf('? ') + 1);
    if (cut < limit / 2) cut = Math.max(cut, window.lastIndexOf(' '));
    if (cut <= 0) cut = limit;
    // Never split a surrogate pair (an emoji would turn into two broken characters).
    const code = rest.charCodeAt(cut - 1);
    if (code >= 0xd800 && code <= 0xdbff) cut -= 1;
    const head = rest.slice(0, cut).trimEnd();
    if (head.length > 0) parts.push(head);
    rest = rest.slice(cut).trimStart();
  }
  if (rest.length > 0) parts.push(rest);
  return parts;
}
