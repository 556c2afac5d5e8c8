import { MongoClient } from 'mongodb';
import { createLogger } from '@inner-talk/telemetry';
import { prepareStorage, StorageNotPreparedError } from './storage-setup';

const logger = createLogger({ app: 'test', level: 'silent' });

describe('prepareStorage', () => {
  it('retries from the first unfinished step until every step succeeded, and is not ready before', async () => {
    const ran: string[] = [];
    let indexFailures = 2;
    const setup = prepareStorage(
      [
        async () => {
          ran.push('a');
        },
        async () => {
          ran.push('b');
          if (indexFailures-- > 0) throw new Error('database unreachable');
        },
        async () => {
          ran.push('c');
        },
      ],
      { logger, isClosing: () => false },
    );
    await expect(setup.check()).rejects.toBeInstanceOf(StorageNotPreparedError);
    // Waits 1 s, then 2 s, between the attempts.
    for (let i = 0; i < 80 && (await setup.check().then(() => false, () => true)); i++) await new Promise((resolve) => setTimeout(resolve, 50));
    await expect(setup.check()).resolves.toBeUndefined();
    expect(ran).toEqual(['a', 'b', 'b', 'b', 'c']);
  }, 10_000);

  it('does not hold up start with an unreachable database, and stops retrying when asked', async () => {
    // Nothing listens on port 1: every step fails after the driver's server selection timeout.
    const client = new MongoClient('mongodb://127.0.0.1:1', { serverSelectionTimeoutMS: 100 });
    let attempts = 0;
    const setup = prepareStorage(
      [
        async () => {
          attempts += 1;
          await client.db('x').collection('y').createIndex({ a: 1 });
        },
      ],
      { logger, isClosing: () => false },
    );
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    await expect(setup.check()).rejects.toBeInstanceOf(StorageNotPreparedError);
    setup.stop();
    const seen = attempts;
    expect(seen).toBeGreaterThanOrEqual(2);
    await new Promise((resolve) => setTimeout(resolve, 2_500));
    expect(attempts).toBe(seen);
    await client.close();
  }, 10_000);
});
