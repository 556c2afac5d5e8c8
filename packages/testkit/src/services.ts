import { spawnSync } from 'node:child_process';

/** Connection URLs of the services integration tests use. */
export interface ServiceUrls {
  redisUrl: string;
  mongoUrl: string;
}

/** Port scripts/services.sh gives the local Redis (INNER_TALK_REDIS_PORT overrides it). */
export const DEFAULT_REDIS_PORT = 6390;
/** Port scripts/services.sh gives the local FerretDB (INNER_TALK_MONGO_PORT overrides it). */
export const DEFAULT_MONGO_PORT = 27090;

const HOW_TO_START = 'Start the local services with:  bash scripts/services.sh up && source .run/services.env   (scripts/test.sh does both for you)';

let checked: string | undefined;

function urlsFromEnv(): ServiceUrls & { redisFromEnv: boolean; mongoFromEnv: boolean } {
  const env = process.env;
  const redisPort = env.INNER_TALK_REDIS_PORT || String(DEFAULT_REDIS_PORT);
  const mongoPort = env.INNER_TALK_MONGO_PORT || String(DEFAULT_MONGO_PORT);
  return {
    redisUrl: env.REDIS_URL || `redis://127.0.0.1:${redisPort}`,
    mongoUrl: env.MONGO_URL || `mongodb://127.0.0.1:${mongoPort}`,
    redisFromEnv: Boolean(env.REDIS_URL),
    mongoFromEnv: Boolean(env.MONGO_URL),
  };
}

/** host:port of a single-host redis:// or mongodb:// URL, or undefined when it cannot be probed simply. */
function tcpTarget(url: string): { host: string; port: number } | undefined {
  if (!/^(redis|rediss|mongodb):\/\//.test(url)) return undefined;
  try {
    const parsed = new URL(url);
    const port = Number(parsed.port || (parsed.protocol.startsWith('mongodb') ? 27017 : 6379));
    return { host: parsed.hostname.replace(/^\[|\]$/g, ''), port };
  } catch {
    return undefined; // e.g. mongodb://h1,h2/ (several hosts)
  }
}

// Runs in a child process so that serviceUrls() can stay synchronous.
const PROBE_SCRIPT = `
const net = require('node:net');
const targets = JSON.parse(process.argv[1]);
Promise.all(targets.map((t) => new Promise((resolve) => {
  const socket = net.connect(t.port, t.host);
  const done = (error) => { socket.destroy(); resolve(error ? error.code || error.message : null); };
  socket.setTimeout(1500, () => done(new Error('timed out')));
  socket.once('connect', () => done(null));
  socket.once('error', done);
}))).then((results) => process.stdout.write(JSON.stringify(results)));
`;

/**
 * URLs of Redis and MongoDB for tests: `REDIS_URL` / `MONGO_URL` (set by scripts/test.sh), else the
 * defaults of scripts/services.sh (redis://127.0.0.1:6390, mongodb://127.0.0.1:27090).
 *
 * Unless `check: false`, verifies once per process (synchronously, ~50 ms) that both accept TCP
 * connections and otherwise throws an error telling the developer to run `bash scripts/services.sh up`.
 */
export function serviceUrls(options: { check?: boolean } = {}): ServiceUrls {
  const urls = urlsFromEnv();
  const result = { redisUrl: urls.redisUrl, mongoUrl: urls.mongoUrl };
  const key = `${urls.redisUrl} ${urls.mongoUrl}`;
  if (options.check === false || checked === key) return result;

  const probes = [
    { name: 'Redis', url: urls.redisUrl, fromEnv: urls.redisFromEnv, variable: 'REDIS_URL', target: tcpTarget(urls.redisUrl) },
    { name: 'MongoDB', url: urls.mongoUrl, fromEnv: urls.mongoFromEnv, variable: 'MONGO_URL', target: tcpTarget(urls.mongoUrl) },
  ].filter((p) => p.target !== undefined);
  if (probes.length > 0) {
    const run = spawnSync(process.execPath, ['-e', PROBE_SCRIPT, JSON.stringify(probes.map((p) => p.target))], {
      encoding: 'utf8',
      timeout: 10_000,
      env: { PATH: process.env.PATH ?? '' },
    });
    let results: Array<string | null> = [];
    try {
      results = JSON.parse(run.stdout) as Array<string | null>;
    } catch {
      throw new Error(`testkit: could not probe the services (${run.error?.message ?? run.stderr.trim()})`);
    }
    const failures = probes
      .map((probe, i) => ({ probe, error: results[i] }))
      .filter((r) => r.error !== null)
      .map(({ probe, error }) => `${probe.name} at ${probe.url} (${probe.fromEnv ? `from ${probe.variable}` : `default; ${probe.variable} is not set`}): ${error}`);
    if (failures.length > 0) {
      throw new Error(`testkit: cannot reach ${failures.join('; and ')}.\n${HOW_TO_START}`);
    }
  }
  checked = key;
  return result;
}

/**
 * Like {@link serviceUrls}, but proves each service works with a real round trip: Redis PING (ioredis)
 * and MongoDB `ping` (the mongodb driver). Throws the same "run services.sh up" advice on failure.
 */
export async function checkServices(timeoutMs = 3_000): Promise<ServiceUrls> {
  const urls = serviceUrls();
  const problems: string[] = [];
  const { Redis } = await import('ioredis');
  const redis = new Redis(urls.redisUrl, { lazyConnect: true, connectTimeout: timeoutMs, maxRetriesPerRequest: 0, retryStrategy: () => null });
  redis.on('error', () => undefined);
  try {
    await redis.connect();
    const pong = await redis.ping();
    if (pong !== 'PONG') problems.push(`Redis at ${urls.redisUrl} answered ${pong} to PING`);
  } catch (error) {
    problems.push(`Redis at ${urls.redisUrl}: ${(error as Error).message}`);
  } finally {
    redis.disconnect();
  }
  const { MongoClient } = await import('mongodb');
  const mongo = new MongoClient(urls.mongoUrl, { serverSelectionTimeoutMS: timeoutMs, connectTimeoutMS: timeoutMs });
  try {
    await mongo.connect();
    await mongo.db('admin').command({ ping: 1 });
  } catch (error) {
    problems.push(`MongoDB at ${urls.mongoUrl}: ${(error as Error).message}`);
  } finally {
    await mongo.close().catch(() => undefined);
  }
  if (problems.length > 0) throw new Error(`testkit: services not usable: ${problems.join('; ')}.\n${HOW_TO_START}`);
  return urls;
}
