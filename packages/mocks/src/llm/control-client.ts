import type { MockFault, MockLlmConfig, MockRequestRecord, MockStats } from './types';

/** The control routes of a mock server in another process, over HTTP. */
export interface MockLlmControl {
  stats(): Promise<MockStats>;
  requests(): Promise<MockRequestRecord[]>;
  config(): Promise<MockLlmConfig>;
  /**
   * Merges a patch (standing faults included, e.g. `{ down: true, downMode: 'refuse' }`) and resolves to
   * the merged config once the server has applied it, so the next API request already sees it.
   */
  configure(patch: Partial<MockLlmConfig>): Promise<MockLlmConfig>;
  /** Resolves to the number of pending faults. */
  script(faults: MockFault | readonly MockFault[]): Promise<number>;
  /** Turns every standing fault off and drops pending scripted faults; resolves to the new config. */
  clearFaults(): Promise<MockLlmConfig>;
  reset(): Promise<void>;
}

async function call<T>(origin: string, method: 'GET' | 'POST', route: string, body?: unknown): Promise<T> {
  const res = await fetch(new URL(`/__mock/${route}`, origin), {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const json = (await res.json()) as unknown;
  if (!res.ok) {
    const detail = typeof json === 'object' && json !== null && 'error' in json ? String(json.error) : res.statusText;
    throw new Error(`mock control ${method} ${route} failed: ${res.status} ${detail}`);
  }
  return json as T;
}

/**
 * Controls a mock server by its origin URL (the `url` it printed or returned). Guarantees: each method
 * makes one HTTP call and rejects with the server's reason on a non-2xx answer; nothing is cached.
 */
export function mockLlmControl(url: string): MockLlmControl {
  return {
    stats: () => call(url, 'GET', 'stats'),
    requests: () => call(url, 'GET', 'requests'),
    config: () => call(url, 'GET', 'config'),
    configure: (patch) => call(url, 'POST', 'config', patch),
    script: async (faults) => (await call<{ pendingFaults: number }>(url, 'POST', 'script', faults)).pendingFaults,
    clearFaults: () => call(url, 'POST', 'clear-faults'),
    reset: async () => {
      await call(url, 'POST', 'reset');
    },
  };
}
