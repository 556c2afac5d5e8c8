import { createServer } from 'node:http';
import { createRedis, redisReady } from '@inner-talk/queue';
import { createLogger, handleProbe, runApp, type StopApp } from '@inner-talk/telemetry';
import { loadMetricsEnv } from './env';
import { buildRegistry } from './registry';

async function main(): Promise<StopApp> {
  const env = loadMetricsEnv();
  const logger = createLogger({ app: 'metrics', level: env.LOG_LEVEL, pretty: env.LOG_PRETTY });
  const redis = createRedis(env.REDIS_URL, 'producer');
  redis.on('error', () => undefined); // reported through failed scrapes and /readyz
  await redisReady(redis, 30_000);
  const { registry, close } = buildRegistry(redis, env.REDIS_PREFIX);

  let stopping = false;
  const server = createServer((req, res) => {
    if (handleProbe(req, res, { redis: () => redis.ping() }, () => stopping)) return;
    if (req.method === 'GET' && (req.url ?? '').split('?')[0] === '/metrics') {
      registry.metrics().then(
        (body) => res.writeHead(200, { 'content-type': registry.contentType }).end(body),
        (err: unknown) => {
          logger.warn({ err: { name: err instanceof Error ? err.name : typeof err } }, 'scrape failed');
          res.writeHead(503, { 'content-type': 'text/plain' }).end('metrics store unavailable\n');
        },
      );
      return;
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(env.METRICS_PORT, env.HTTP_HOST, resolve));
  logger.info({ port: env.METRICS_PORT }, 'metrics started');

  return async (signal) => {
    stopping = true;
    logger.info({ signal }, 'metrics stopping');
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await close().catch(() => undefined);
    redis.disconnect();
    logger.info('metrics stopped');
    logger.flush();
  };
}

runApp('metrics', main);
