import type { Vault } from '@inner-talk/vault';

// Purpose of the pseudonyms below (see Vault.pseudonym): unrelated to the chat pseudonyms of the inbox.
const PERSON_PSEUDONYM_PURPOSE = 'person';

/**
 * How a person (a userId such as `tg:42`) is named in Redis key names: a keyed pseudonym under the
 * current data encryption key, never the id. Keys named this way hold short-lived state (limit
 * counters, the context cache), so a key change simply starts them afresh.
 */
export function personKeyOf(vault: Vault, userId: string): string {
  return vault.pseudonym(userId, PERSON_PSEUDONYM_PURPOSE);
}

/** Every name `userId` may have in Redis key names: one per key of the ring (what forget deletes). */
export function personKeysOf(vault: Vault, userId: string): string[] {
  return vault.pseudonyms(userId, PERSON_PSEUDONYM_PURPOSE);
}
