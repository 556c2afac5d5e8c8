import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Db } from 'mongodb';
import type { AdminConsole } from '@inner-talk/conversation';
import { deadLettersKey } from '@inner-talk/queue';
import { recordAudit } from '@inner-talk/storage';

const USAGE = ['Admin commands:', '/admin stats — people, sessions, risk events and queue counts', '/admin deadletters — updates that failed every attempt (ids and error classes, no text)'].join('\n');
const DAY_MS = 86_400_000;

export interface WorkerAdminDeps {
  /** Telegram user ids allowed to use the console (ADMIN_TELEGRAM_IDS). */
  adminIds: ReadonlySet<string>;
  db: Db;
  redis: Redis;
  prefix: string;
  queue: Queue;
  /** Counts risk events by level (their level is sealed, so the store opens them). */
  riskEventCounts(since: Date): Promise<{ high: number; low: number }>;
  now?: () => number;
}

/**
 * The operator console behind `/admin` for allowlisted Telegram ids. It shows counts and ids only —
 * never a message, summary or answer — and writes every access to the audit log, refused ones
 * included (actor `admin:<user>` or `user:<user>`, action `admin.<command>` or `admin.refused`).
 */
export class WorkerAdmin implements AdminConsole {
  constructor(private readonly deps: WorkerAdminDeps) {}

  isAdmin(userId: string): boolean {
    const match = /^tg:(\d+)$/.exec(userId);
    return match !== null && this.deps.adminIds.has(match[1]!);
  }

  async refused(userId: string, turnKey: string): Promise<void> {
    await recordAudit(this.deps.db, { id: `admin|${userId}|${turnKey}`, actor: `user:${userId}`, action: 'admin.refused', subject: null, at: new Date(this.now()) });
  }

  async run(userId: string, args: string, turnKey: string): Promise<string> {
    const command = args.split(/\s+/)[0]?.toLowerCase() ?? '';
    let answer: string;
    switch (command) {
      case 'stats':
        answer = await this.stats();
        break;
      case 'deadletters':
        answer = await this.deadLetters();
        break;
      default:
        answer = USAGE;
    }
    await recordAudit(this.deps.db, { id: `admin|${userId}|${turnKey}`, actor: `admin:${userId}`, action: `admin.${command || 'help'}`, subject: null, at: new Date(this.now()) });
    return answer;
  }

  private async stats(): Promise<string> {
    const { db } = this.deps;
    const since = new Date(this.now() - DAY_MS);
    const [people, consented, activeSessions, summaries, risk, counts, letters] = await Promise.all([
      db.collection('users').countDocuments(),
      db.collection('consents').countDocuments({ step: 'consented' }),
      db.collection('sessions').countDocuments({ status: 'active' }),
      db.collection('sessions').countDocuments({ summary: { $exists: true } }),
      this.deps.riskEventCounts(since),
      this.deps.queue.getJobCounts('waiting', 'active', 'delayed', 'failed'),
      this.deps.redis.zcard(deadLettersKey(this.deps.prefix)),
    ]);
    return [
      `people: ${people} (consented: ${consented})`,
      `sessions open: ${activeSessions}; summaries kept: ${summaries}`,
      `risk events in 24 h: high ${risk.high}, low ${risk.low}`,
      `queue: waiting ${counts.waiting ?? 0}, active ${counts.active ?? 0}, delayed ${counts.delayed ?? 0}, failed ${counts.failed ?? 0}`,
      `dead letters: ${letters}`,
    ].join('\n');
  }

  private async deadLetters(): Promise<string> {
    const members = await this.deps.redis.zrevrange(deadLettersKey(this.deps.prefix), 0, 19, 'WITHSCORES');
    if (members.length === 0) return 'No dead letters.';
    const lines: string[] = [];
    for (let i = 0; i < members.length; i += 2) {
      const [chat, updateId] = (members[i] ?? '').split('|');
      lines.push(`${new Date(Number(members[i + 1])).toISOString()} chat ${chat} update ${updateId}`);
    }
    return [`Latest dead letters (${lines.length}):`, ...lines].join('\n');
  }

  private now(): number {
    return (this.deps.now ?? Date.now)();
  }
}
