// Helpers for integration and end-to-end tests (Node only). Import through this index.
export { serviceUrls, checkServices, DEFAULT_REDIS_PORT, DEFAULT_MONGO_PORT } from './services';
export type { ServiceUrls } from './services';
export { uniquePrefix } from './names';
export { freePort } from './net';
export { waitFor } from './wait';
export type { WaitForOptions } from './wait';
export { spawnApp, stopAll, onCleanup, runningApps, startWatchdog } from './spawn';
export { ensureAppsBuilt } from './build';
export type { AppProcess, SpawnAppOptions } from './spawn';
export { repoRoot } from './repo';
export { logRecords } from './logs';
export { redisDump } from './redis-dump';
export type { LogRecord } from './logs';
export {
  textUpdate,
  postUpdate,
  WEBHOOK_SECRET_HEADER,
  privateMessageUpdate,
  groupMessageUpdate,
  anonymousAdminUpdate,
  linkedChannelPostUpdate,
  photoUpdate,
  voiceUpdate,
  stickerUpdate,
  forwardedUpdate,
  editedMessageUpdate,
  addedToGroupUpdate,
  callbackQueryUpdate,
} from './telegram';
export type { TextUpdateOptions, TelegramPerson, TelegramGroup } from './telegram';
