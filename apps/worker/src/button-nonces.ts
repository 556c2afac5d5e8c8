import type { Redis } from 'ioredis';
import type { ButtonNonces, NoncePurpose } from '@inner-talk/conversation';
import type { Vault } from '@inner-talk/vault';
import { personKeyOf, personKeysOf } from './person-keys';

/**
 * How long a nonce stays live. The `/forget` confirmation is a question about now: after an hour
 * the person asks again. A `/history` listing may be read later, so its buttons live a day.
 */
const TTL_SECONDS: Readonly<Record<NoncePurpose, number>> = { forget: 3_600, history: 86_400 };

/**
 * The conversation's button nonces in Redis, one key per (person, purpose) holding the issuing turn
 * and the nonce, the person named by their keyed pseudonym (never their id). They expire on their own; `/forget` deletes them too, but last (see
 * WorkerDataRights), so its own confirmation keeps working for a press retried after the consent
 * record and the rest of the data are gone, until the forget has finished.
 *
 * Not atomic across the read and the write of `issue`: a person's events are handled one at a time
 * (the chat inbox), so only that person's own retried turn can race, and it proposes for the same turn.
 * Errors propagate: a press that cannot be checked is retried, never honoured blindly.
 */
export class RedisButtonNonces implements ButtonNonces {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly vault: Vault,
  ) {}

  private key(userId: string, purpose: NoncePurpose): string {
    return this.keyNamed(personKeyOf(this.vault, userId), purpose);
  }

  private keyNamed(person: string, purpose: NoncePurpose): string {
    return `${this.prefix}:nonce:{${person}}:${purpose}`;
  }

  /** The person's keys under every key of the ring, for `/forget`. */
  keysOf(userId: string): string[] {
    const purposes = Object.keys(TTL_SECONDS) as NoncePurpose[];
    return personKeysOf(this.vault, userId).flatMap((person) => purposes.map((purpose) => this.keyNamed(person, purpose)));
  }

  async issue(userId: string, purpose: NoncePurpose, turnKey: string, proposed: string): Promise<string> {
    const key = this.key(userId, purpose);
    const current = parse(await this.redis.get(key));
    if (current?.turnKey === turnKey) return current.nonce;
    await this.redis.set(key, JSON.stringify({ turnKey, nonce: proposed }), 'EX', TTL_SECONDS[purpose]);
    return proposed;
  }

  async live(userId: string, purpose: NoncePurpose): Promise<string | null> {
    return parse(await this.redis.get(this.key(userId, purpose)))?.nonce ?? null;
  }
}

function parse(raw: string | null): { turnKey: string; nonce: string } | null {
  if (raw === null) return null;
  try {
    const value = JSON.parse(raw) as { turnKey?: unknown; nonce?: unknown };
    return typeof value.turnKey === 'string' && typeof value.nonce === 'string' ? { turnKey: value.turnKey, nonce: value.nonce } : null;
  } catch {
    return null;
  }
}
