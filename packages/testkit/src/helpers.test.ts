import net from 'node:net';
import { checkServices, freePort, serviceUrls, uniquePrefix, waitFor } from './index';

describe('uniquePrefix', () => {
  it('makes short, distinct names of letters, digits and underscores', () => {
    const names = Array.from({ length: 2_000 }, () => uniquePrefix('Conversation Store!'));
    expect(new Set(names).size).toBe(names.length);
    for (const name of names.slice(0, 50)) {
      expect(name).toMatch(/^conversation_[a-z0-9]+$/);
      expect(name.length).toBeLessThanOrEqual(32);
    }
    expect(uniquePrefix()).toMatch(/^t_[a-z0-9]{14}$/);
    expect(uniquePrefix('---')).toMatch(/^t_/);
  });
});

describe('freePort', () => {
  it('returns distinct ports that can be bound', async () => {
    const ports = await Promise.all([freePort(), freePort(), freePort()]);
    expect(new Set(ports).size).toBe(3);
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(ports[0], '127.0.0.1', resolve));
    await new Promise((resolve) => server.close(resolve));
  });
});

describe('waitFor', () => {
  it('returns the first truthy value', async () => {
    let n = 0;
    await expect(waitFor(() => (++n >= 3 ? `n=${n}` : undefined), { intervalMs: 5 })).resolves.toBe('n=3');
  });

  it('times out with the message and the last error', async () => {
    await expect(
      waitFor(
        () => {
          throw new Error('not yet');
        },
        { timeoutMs: 100, intervalMs: 10, message: 'queue drained' },
      ),
    ).rejects.toThrow('waitFor: queue drained not met within 100 ms; last error: not yet');
  });
});

describe('serviceUrls', () => {
  const saved = { ...process.env };
  afterEach(() => {
    for (const key of ['REDIS_URL', 'MONGO_URL', 'INNER_TALK_REDIS_PORT', 'INNER_TALK_MONGO_PORT']) {
      if (saved[key] === undefined) delete process.env[key];
      else process.env[key] = saved[key];
    }
  });

  it('defaults to the ports of scripts/services.sh', () => {
    delete process.env.REDIS_URL;
    delete process.env.MONGO_URL;
    delete process.env.INNER_TALK_REDIS_PORT;
    delete process.env.INNER_TALK_MONGO_PORT;
    expect(serviceUrls({ check: false })).toEqual({ redisUrl: 'redis://127.0.0.1:6390', mongoUrl: 'mongodb://127.0.0.1:27090' });
    process.env.INNER_TALK_REDIS_PORT = '7000';
    expect(serviceUrls({ check: false }).redisUrl).toBe('redis://127.0.0.1:7000');
    process.env.MONGO_URL = 'mongodb://db.example:1234/x';
    expect(serviceUrls({ check: false }).mongoUrl).toBe('mongodb://db.example:1234/x');
  });

  it('tells the developer to run services.sh when a service does not answer', async () => {
    const closedPort = await freePort();
    process.env.REDIS_URL = `redis://127.0.0.1:${closedPort}`;
    expect(() => serviceUrls()).toThrow(new RegExp(`cannot reach Redis at redis://127.0.0.1:${closedPort} \\(from REDIS_URL\\): ECONNREFUSED[\\s\\S]*bash scripts/services.sh up`));
  });

  it('reaches the services scripts/test.sh started (real PING and ping)', async () => {
    await expect(checkServices()).resolves.toEqual(serviceUrls());
  });
});
