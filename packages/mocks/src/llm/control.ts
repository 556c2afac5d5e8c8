import type { IncomingMessage, ServerResponse } from 'node:http';
import { BodyTooLargeError, parseJsonOrNull, readBody, send } from './http-util';
import type { MockState } from './state';
import { MockInputError, parseConfigPatch, parseFaults } from './validate';

/** Path prefix of the control routes; requests under it are never counted as API traffic. */
export const CONTROL_PREFIX = '/__mock/';

async function jsonBody(req: IncomingMessage): Promise<unknown> {
  const text = await readBody(req);
  const value = parseJsonOrNull(text);
  if (value === null && text.trim() !== 'null') throw new MockInputError('body must be JSON');
  return value;
}

/**
 * Serves GET stats|requests|config and POST config|script|clear-faults|reset under /__mock/.
 * POST config takes a partial MockLlmConfig (standing faults included) and answers the merged config;
 * it applies from the next API request on.
 */
export async function handleControl(state: MockState, req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
  const route = `${req.method ?? 'GET'} ${path.slice(CONTROL_PREFIX.length)}`;
  try {
    switch (route) {
      case 'GET stats':
        return send(res, 200, state.stats());
      case 'GET requests':
        return send(res, 200, state.requests());
      case 'GET config':
        return send(res, 200, state.getConfig());
      case 'POST config':
        return send(res, 200, state.configure(parseConfigPatch(await jsonBody(req))));
      case 'POST script':
        return send(res, 200, { pendingFaults: state.addFaults(parseFaults(await jsonBody(req))) });
      case 'POST clear-faults':
        await readBody(req);
        return send(res, 200, state.clearFaults());
      case 'POST reset':
        await readBody(req);
        state.reset();
        return send(res, 200, { ok: true });
      default:
        return send(res, 404, { error: `unknown control route: ${route}` });
    }
  } catch (err) {
    if (err instanceof MockInputError) return send(res, 400, { error: err.message });
    if (err instanceof BodyTooLargeError) return send(res, 413, { error: err.message });
    throw err;
  }
}
