/**
 * The image's HEALTHCHECK: exits 0 when the app in this container answers GET /readyz with 200.
 *
 *   node /app/healthcheck.js
 *
 * One image runs any of the apps and a container runs one, so this asks each app's configured port
 * (HTTP_PORT of the ingress, HEALTH_PORT of the worker, METRICS_PORT of the metrics app; their
 * defaults when unset) and is healthy when one of them is ready. Plain JavaScript at run time: no
 * dependency, so it starts in a few milliseconds.
 */
const PORTS: ReadonlyArray<[string, number]> = [
  ['HTTP_PORT', 8080],
  ['HEALTH_PORT', 8081],
  ['METRICS_PORT', 9464],
];

async function ready(port: number): Promise<boolean> {
  try {
    const response = await fetch(`http://127.0.0.1:${port}/readyz`, { signal: AbortSignal.timeout(2_500) });
    return response.ok;
  } catch {
    return false;
  }
}

async function main(): Promise<void> {
  const ports = [...new Set(PORTS.map(([name, fallback]) => Number(process.env[name] ?? fallback)))];
  const answers = await Promise.all(ports.map(ready));
  process.exit(answers.some(Boolean) ? 0 : 1);
}

void main();
