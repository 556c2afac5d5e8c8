import { MongoClient } from 'mongodb';
import { ConsentStore } from '@inner-talk/storage';

/**
 * Marks people as having finished onboarding (language chosen, 18+ confirmed, consent given), with
 * the same write the consent button makes. For tests, the demo and benchmarks whose subject is not
 * onboarding. Idempotent; resolves once every record is stored.
 */
export async function grantConsents(mongoUrl: string, mongoDb: string, locale: 'ru' | 'en', telegramUserIds: readonly number[]): Promise<void> {
  const mongo = new MongoClient(mongoUrl);
  try {
    const consents = new ConsentStore(mongo.db(mongoDb));
    const at = new Date();
    for (const id of telegramUserIds) await consents.grantConsent(`tg:${id}`, locale, at);
  } finally {
    await mongo.close();
  }
}
