export { QUEUE_NAMES } from './names';
export type { QueueName } from './names';
export { telegramUpdateSchema, updateJobSchema, parseJob, InvalidJobError } from './jobs';
export type { TelegramUpdatePayload, UpdateJob } from './jobs';
export { createRedis, redisReady } from './redis';
export type { RedisRole } from './redis';
export { UpdateQueue, updateJobId } from './update-queue';
export type { UpdateQueueOptions } from './update-queue';
