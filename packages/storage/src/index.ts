export { connectMongo } from './mongo';
export type { MongoConnection } from './mongo';
export { ConversationStore } from './conversation-store';
export type { ConversationStoreOptions, UserRecord, MessageRecord, RiskEventRecord } from './conversation-store';
export {
  PERSONAL_COLLECTIONS,
  RETAINED_COLLECTIONS,
  SealedFieldUnreadableError,
  openFields,
  sealFields,
  recordAad,
} from './personal-data';
export type { PersonalCollection, PersonalCollectionName } from './personal-data';
export { exportUserData, forgetUserData } from './data-rights';
export type { JsonValue, UserDataExport } from './data-rights';
export { rotateKeys } from './rotation';
export type { RotationCounts, RotationResult } from './rotation';
export { AUDIT_COLLECTION, auditEntriesFor, recordAudit } from './audit';
export type { AuditDetails, AuditEntry, AuditRecord } from './audit';
export { ConsentStore, CONSENTS_COLLECTION } from './consent-store';
export type { ConsentRecord, ConsentStep } from './consent-store';
export { AssessmentStore, ASSESSMENTS_COLLECTION, ASSESSMENT_HEADS_COLLECTION } from './assessment-store';
export { MIGRATIONS_COLLECTION } from './migrations';
export type { SealingVault, SelfCheckRun, SelfCheckScore, SelfCheckStatus } from './assessment-store';
export { SessionStore, SESSIONS_COLLECTION, SESSION_HEADS_COLLECTION } from './session-store';
export type { SessionEndReason, SessionMessage, SessionState } from './session-store';
export { isStorageUnavailable } from './outage';
