export { ConfigError, parseEnv, parseAll, urlWithScheme, positiveInt, port, flag } from './env';
export { commonEnv, telegramEnv } from './common';
export type { CommonEnv } from './common';
export { dataEncryptionEnv, parseDataEncryptionEnv, type DataEncryptionConfig } from './encryption';
