import { Bot } from 'grammy';
import type { UserFromGetMe } from 'grammy/types';
import { UnstorableUpdateError, type TelegramUpdatePayload } from '@inner-talk/queue';
import type { Logger } from '@inner-talk/telemetry';

export interface PollingOptions {
  token: string;
  apiRoot: string;
  botInfo: UserFromGetMe;
  accept(update: TelegramUpdatePayload): Promise<void>;
  logger: Logger;
  isStopping(): boolean;
}

/**
 * Development mode: long polling with grammY. The middleware only stores the update; it keeps
 * retrying while Redis is away, which holds the polling loop, so Telegram keeps the update until
 * it is stored (grammY confirms an update by asking for the next offset after handling it).
 */
export function createPollingBot(options: PollingOptions): Bot {
  const bot = new Bot(options.token, { botInfo: options.botInfo, client: { apiRoot: options.apiRoot } });
  bot.use(async (ctx) => {
    const update = ctx.update as unknown as TelegramUpdatePayload;
    for (let attempt = 1; ; attempt++) {
      try {
        await options.accept(update);
        return;
      } catch (error) {
        // Retrying cannot store it; holding the loop for it would stop every later update.
        if (error instanceof UnstorableUpdateError) {
          options.logger.warn({ updateId: update.update_id }, 'update cannot be stored (nested too deeply); dropped');
          return;
        }
        if (options.isStopping()) throw error;
        const waitMs = Math.min(5000, 100 * 2 ** attempt);
        options.logger.warn({ updateId: update.update_id, attempt, waitMs, err: { name: error instanceof Error ? error.name : typeof error } }, 'could not store update; retrying');
        await new Promise((resolve) => setTimeout(resolve, waitMs));
      }
    }
  });
  bot.catch((err) => options.logger.error({ updateId: err.ctx.update.update_id, err: { name: err.error instanceof Error ? err.error.name : typeof err.error } }, 'update not stored'));
  return bot;
}
