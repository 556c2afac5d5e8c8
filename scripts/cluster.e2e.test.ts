import { spawn } from 'node:child_process';
import { Redis } from 'ioredis';
import { MongoClient } from 'mongodb';
import { repoRoot, serviceUrls } from '@inner-talk/testkit';

// The README's run command ends in `tsx scripts/cluster.ts`; without a token it must show a real
// turn going through the local cluster and stop cleanly with --once.
describe('the local run command in demo mode', () => {
  afterAll(async () => {
    const redis = new Redis(serviceUrls().redisUrl);
    const keys = await redis.keys('demo:*');
    if (keys.length) await redis.del(...keys);
    await redis.quit();
    const mongo = new MongoClient(serviceUrls().mongoUrl);
    await mongo.db('inner_talk_demo').dropDatabase().catch(() => undefined);
    await mongo.close();
  });

  it('prints the greeting, the model reply and the metrics, then exits 0', async () => {
    const { redisUrl, mongoUrl } = serviceUrls();
    const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME, REDIS_URL: redisUrl, MONGO_URL: mongoUrl };
    const child = spawn(process.execPath, [require.resolve('tsx/cli'), 'scripts/cluster.ts', '--once'], { cwd: repoRoot(), env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (out += c.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect({ code, out }).toMatchObject({ code: 0 });
    expect(out).toContain('DEMO MODE');
    expect(out).toMatch(/bot {4}→ Hi, I am Inner Talk/);
    expect(out).toContain('person ⇢ [I agree]');
    expect(out).toContain('bot    → Mock reply to: I feel anxious about my exam tomorrow');
    expect(out).toContain('innertalk_reply_latency_seconds_count{kind="message"} 5');
    expect(out).toContain('demo finished');
  });
});
