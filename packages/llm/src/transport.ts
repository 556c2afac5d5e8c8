/**
 * True when the error, or any error in its `cause` chain, is a system/socket error: Node and undici put a
 * string `code` on those (ECONNREFUSED, ECONNRESET, EPIPE, UND_ERR_SOCKET, ...). That is how a refused or
 * dropped connection looks once fetch wraps it in "TypeError: fetch failed".
 */
export function isTransportError(err: unknown): boolean {
  let current: unknown = err;
  for (let depth = 0; depth < 8 && typeof current === 'object' && current !== null; depth += 1) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && code !== '') return true;
    current = (current as { cause?: unknown }).cause;
  }
  return false;
}

/** Keeps provider error messages short in logs and error reports. */
export function clip(text: string, max = 300): string {
  return text.length <= max ? text : `${text.slice(0, max)}…`;
}
