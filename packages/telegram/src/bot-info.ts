import type { Api } from 'grammy';
import type { UserFromGetMe } from 'grammy/types';
import type { Redis } from 'ioredis';

const TTL_SECONDS = 3600;

/**
 * The bot's own identity (grammY needs it to handle updates), fetched from Telegram once per
 * cluster and shared through Redis, so N workers do not call getMe N times at every start.
 * Cached for an hour: a renamed bot is picked up without a restart.
 */
export async function sharedBotInfo(redis: Redis, prefix: string, api: Api): Promise<UserFromGetMe> {
  const key = `${prefix}:telegram:bot-info`;
  const cached = await redis.get(key);
  if (cached) return JSON.parse(cached) as UserFromGetMe;
  const me = await api.getMe();
  await redis.set(key, JSON.stringify(me), 'EX', TTL_SECONDS);
  return me;
}
