/**
 * The ingress in polling mode (development) against the strict Bot API stand-in: it asks Telegram
 * for exactly the update types the bot handles, and what it stores of a group is cut down like in
 * webhook mode (both go through the one place updates are accepted).
 */
import { Redis } from 'ioredis';
import { startStrictBotApi, type StrictBotApi } from '@inner-talk/mocks';
import { ChatInbox } from '@inner-talk/queue';
import { ALLOWED_UPDATES } from '@inner-talk/telegram';
import { parseKeyring, Vault } from '@inner-talk/vault';
import { freePort, groupMessageUpdate, privateMessageUpdate, serviceUrls, spawnApp, uniquePrefix, waitFor, type AppProcess } from '@inner-talk/testkit';

const TOKEN = '577215:polling-e2e-token';
const ANN = { id: 850_001, firstName: 'Ann', languageCode: 'en' };
const GROUP = { id: -100_850_001, type: 'supergroup' as const, title: 'Circle' };

describe('ingress in polling mode', () => {
  const redis = new Redis(serviceUrls().redisUrl);
  const prefix = uniquePrefix('polling');
  // The ingress seals what it stores: the test reads the inbox with the same keyring.
  const keyring = `k1:${Buffer.alloc(32, 9).toString('base64')}`;
  const vault = new Vault(parseKeyring(keyring));
  let standIn: StrictBotApi;
  let ingress: AppProcess | undefined;

  beforeAll(async () => {
    standIn = await startStrictBotApi({ token: TOKEN, maxPollMs: 500 });
    const port = await freePort();
    ingress = await spawnApp({
      name: 'ingress-polling',
      entry: 'apps/ingress/src/index.ts',
      env: {
        NODE_ENV: 'development',
        LOG_LEVEL: 'info',
        REDIS_URL: serviceUrls().redisUrl,
        REDIS_PREFIX: prefix,
        TELEGRAM_BOT_TOKEN: TOKEN,
        TELEGRAM_API_ROOT: standIn.apiRoot,
        INGRESS_MODE: 'polling',
        HTTP_HOST: '127.0.0.1',
        HTTP_PORT: String(port),
        DATA_ENCRYPTION_KEYS: keyring,
      },
      healthUrl: `http://127.0.0.1:${port}/healthz`,
    });
  }, 60_000);

  afterAll(async () => {
    await ingress?.stop('SIGTERM', 10_000);
    await standIn.close();
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length) await redis.del(...keys);
    redis.disconnect();
  });

  it('polls for exactly the handled update types and stores a group message cut down, a private one as sent', async () => {
    await waitFor(() => standIn.callsOf('getUpdates').length > 0, { timeoutMs: 15_000, message: 'the ingress polls' });
    expect(standIn.pollingAllowedUpdates()).toEqual([...ALLOWED_UPDATES]);
    expect(standIn.callsOf('getUpdates')[0]?.params.allowed_updates).toEqual(['message', 'edited_message', 'callback_query', 'my_chat_member']);

    const inGroup = groupMessageUpdate(1, GROUP, ANN, 'I feel so alone tonight');
    const inPrivate = privateMessageUpdate(2, ANN, 'I feel so alone tonight');
    await standIn.deliver(inGroup);
    await standIn.deliver(inPrivate);
    const inbox = new ChatInbox(redis, prefix, vault);
    const [stored] = await waitFor(async () => {
      const entries = await inbox.peek(inbox.pseudonymOf(String(GROUP.id)), 10);
      return entries.length > 0 ? entries : null;
    }, { timeoutMs: 10_000, message: 'the group update stored' });
    expect(stored?.update).toEqual({ update_id: 1, message: { message_id: 1, date: inGroup.message.date, chat: { id: GROUP.id, type: 'supergroup' }, from: { language_code: 'en' } } });
    const [own] = await waitFor(async () => {
      const entries = await inbox.peek(inbox.pseudonymOf(String(ANN.id)), 10);
      return entries.length > 0 ? entries : null;
    }, { timeoutMs: 10_000, message: 'the private update stored' });
    expect(own?.update).toEqual(inPrivate);
  });
});
