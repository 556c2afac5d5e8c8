import type { IncomingMessage, ServerResponse } from 'node:http';

/** A dependency check for /readyz: resolves when the dependency answers, rejects otherwise. */
export type ReadinessCheck = () => Promise<unknown>;

const CHECK_TIMEOUT_MS = 1500;

function withTimeout(check: ReadinessCheck): Promise<unknown> {
  return Promise.race([
    check(),
    new Promise((_, reject) => setTimeout(() => reject(new Error('timed out')), CHECK_TIMEOUT_MS).unref()),
  ]);
}

/**
 * Handles `GET /healthz` (the process is alive: always 200 while it serves) and `GET /readyz`
 * (every check passes within 1.5 s: 200, else 503 naming the failing dependencies, without
 * error details that might carry connection strings). Returns false for other paths.
 * `isShuttingDown` turns readiness off first when the process is draining.
 */
export function handleProbe(
  req: IncomingMessage,
  res: ServerResponse,
  checks: Readonly<Record<string, ReadinessCheck>>,
  isShuttingDown: () => boolean = () => false,
): boolean {
  const path = (req.url ?? '').split('?')[0];
  if (req.method !== 'GET' || (path !== '/healthz' && path !== '/readyz')) return false;
  if (path === '/healthz') {
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}');
    return true;
  }
  void (async () => {
    const names = Object.keys(checks);
    const results = await Promise.allSettled(names.map((name) => withTimeout(checks[name]!)));
    const failing = names.filter((_, i) => results[i]!.status === 'rejected');
    if (isShuttingDown()) failing.push('shutting-down');
    const status = failing.length === 0 ? 200 : 503;
    res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify({ status: status === 200 ? 'ready' : 'not-ready', failing }));
  })();
  return true;
}
