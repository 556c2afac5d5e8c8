export { connectMongo } from './mongo';
export type { MongoConnection } from './mongo';
export { ConversationStore } from './conversation-store';
export type { UserRecord, MessageRecord, RiskEventRecord } from './conversation-store';
