import { GrammyError } from 'grammy';
import type { UserFromGetMe } from 'grammy/types';
import { Redis } from 'ioredis';
import type { Conversation } from '@inner-talk/conversation';
import { startTelegramEmulator, type TelegramEmulator } from '@inner-talk/mocks';
import { ClusterMetricsWriter, createLogger, METRICS, readHistogram } from '@inner-talk/telemetry';
import { serviceUrls, uniquePrefix } from '@inner-talk/testkit';
import { createWorkerBot } from './bot';

const TOKEN = '313131:bot-metrics-token';

describe('worker bot: Telegram API call latency', () => {
  let redis: Redis;
  let emulator: TelegramEmulator;
  let prefix: string;

  beforeAll(async () => {
    redis = new Redis(serviceUrls().redisUrl);
    emulator = await startTelegramEmulator();
  });
  beforeEach(() => {
    prefix = uniquePrefix('tgapi');
  });
  afterEach(async () => {
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length) await redis.del(...keys);
  });
  afterAll(async () => {
    await emulator.close();
    await redis.quit();
  });

  it('records every Bot API call by method and outcome, Telegram errors included', async () => {
    const { bot } = createWorkerBot({
      token: TOKEN,
      apiRoot: emulator.apiRoot,
      botInfo: { id: 1, is_bot: true, first_name: 'Bot', username: 'bot' } as UserFromGetMe, // only read by handlers
      conversation: {} as Conversation,
      logger: createLogger({ app: 'test', level: 'silent' }),
      claimNotice: () => Promise.resolve(true),
      metrics: new ClusterMetricsWriter(redis, prefix),
    });
    await bot.api.sendMessage(4242, 'one');
    await bot.api.sendMessage(4242, 'two');
    // Not emulated: answered like Telegram answers an unknown method (404, ok: false).
    await expect(bot.api.getChat(4242)).rejects.toBeInstanceOf(GrammyError);

    // The writes are not awaited by the calls; give them a moment.
    let series: Awaited<ReturnType<typeof readHistogram>> = [];
    for (let i = 0; i < 40 && series.reduce((n, s) => n + s.count, 0) < 3; i++) {
      await new Promise((resolve) => setTimeout(resolve, 25));
      series = await readHistogram(redis, prefix, METRICS.telegramApiLatency);
    }
    const counts = Object.fromEntries(series.map((s) => [`${s.labels.method} ${s.labels.outcome}`, s.count]));
    expect(counts).toEqual({ 'sendMessage ok': 2, 'getChat error_404': 1 });
    expect(series.every((s) => s.sumMs > 0)).toBe(true);
  });
});
