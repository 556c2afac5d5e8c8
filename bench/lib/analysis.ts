/**
 * Turns what the load generator sent, what the Bot API sink received and what the mock LLM answered
 * into per-message outcomes and per-step numbers. Pure functions (tested in analysis.test.ts).
 *
 * A reply belongs to a message by the message's unique token: every text starts with `[<token>]`
 * and the mock answers `Mock reply to: <text>`, so the reply quotes it. A reply that quotes several
 * tokens answered a coalesced turn (several rapid messages answered as one).
 */
import { unionLength, type LlmCall } from './llm-timing';
import { percentile, round } from './stats';
import { tokensIn } from './workload';

export interface SentRecord {
  token: string;
  chatId: number;
  text: string;
  /** When the person sent it (epoch ms). */
  createdAt: number;
  /** First POST to the webhook (epoch ms), undefined if never attempted. */
  firstPostAt?: number;
  /** POST attempts (more than 1: redelivered after a failure). */
  attempts: number;
}

export interface ReplyRecord {
  chatId: number;
  text: string;
  at: number;
}

export interface MessageOutcome {
  token: string;
  createdAt: number;
  /** Replies that quote this message's token. */
  replies: number;
  firstReplyAt: number | null;
  /** Replies that quote the token but went to another chat. */
  wrongChat: number;
  /** One of the replies is exactly `Mock reply to: <text>`. */
  exact: boolean;
  /** The first reply quoted other messages too (coalesced turn). */
  coalesced: boolean;
  /** Model calls whose last user turn carried the token, started before the first reply. */
  llmCalls: number;
  /** Time the message waited on the model (union of its calls' intervals); null if any call's latency is unknown or no call was seen. */
  llmMs: number | null;
  e2eMs: number | null;
  overheadMs: number | null;
  /** Waiting at "Telegram" for a free webhook connection before the first POST. */
  telegramWaitMs: number | null;
  attempts: number;
}

export const expectedReply = (text: string) => `Mock reply to: ${text}`;

/** Matches every sent message with its replies and model calls. */
export function messageOutcomes(sent: readonly SentRecord[], replies: readonly ReplyRecord[], calls: readonly LlmCall[]): MessageOutcome[] {
  const repliesByToken = new Map<string, ReplyRecord[]>();
  const tokenCount = new Map<ReplyRecord, number>();
  for (const r of replies) {
    const tokens = tokensIn(r.text);
    tokenCount.set(r, tokens.length);
    for (const t of new Set(tokens)) {
      const list = repliesByToken.get(t);
      if (list) list.push(r);
      else repliesByToken.set(t, [r]);
    }
  }
  const callsByToken = new Map<string, LlmCall[]>();
  for (const c of calls) {
    for (const t of new Set(tokensIn(c.lastUserText))) {
      const list = callsByToken.get(t);
      if (list) list.push(c);
      else callsByToken.set(t, [c]);
    }
  }
  return sent.map((s) => {
    const got = (repliesByToken.get(s.token) ?? []).slice().sort((a, b) => a.at - b.at);
    const first = got[0] ?? null;
    const firstReplyAt = first ? first.at : null;
    const own = (callsByToken.get(s.token) ?? []).filter((c) => firstReplyAt === null || c.at <= firstReplyAt);
    const known = own.every((c) => c.delayMs !== null);
    const llmMs = own.length > 0 && known ? unionLength(own.map((c) => [c.at, c.at + c.delayMs!] as const)) : null;
    const e2eMs = firstReplyAt === null ? null : firstReplyAt - s.createdAt;
    return {
      token: s.token,
      createdAt: s.createdAt,
      replies: got.length,
      firstReplyAt,
      wrongChat: got.filter((r) => r.chatId !== s.chatId).length,
      exact: got.some((r) => r.text === expectedReply(s.text)),
      coalesced: first !== null && (tokenCount.get(first) ?? 0) > 1,
      llmCalls: own.length,
      llmMs,
      e2eMs,
      overheadMs: e2eMs !== null && llmMs !== null ? e2eMs - llmMs : null,
      telegramWaitMs: s.firstPostAt === undefined ? null : s.firstPostAt - s.createdAt,
      attempts: s.attempts,
    };
  });
}

export interface StepNumbers {
  messages: number;
  answered: number;
  /** No reply by the end of the grace period. */
  lost: number;
  /** Messages with more than one reply. */
  duplicates: number;
  /** Replies that went to another person's chat. */
  wrong_chat: number;
  /** Answered, but no reply is exactly `Mock reply to: <text>` (e.g. coalesced with another message). */
  inexact: number;
  coalesced: number;
  /** Replies received per second in the load window shifted by the median end-to-end time. */
  throughput_msg_s: number;
  e2e_p50_ms: number | null;
  e2e_p95_ms: number | null;
  e2e_p99_ms: number | null;
  e2e_max_ms: number | null;
  overhead_p50_ms: number | null;
  overhead_p95_ms: number | null;
  overhead_p99_ms: number | null;
  overhead_max_ms: number | null;
  llm_p50_ms: number | null;
  llm_p99_ms: number | null;
  /** Answered messages whose model time is unknown (left out of the overhead percentiles). */
  overhead_unknown: number;
  /** Model calls per answered message (2 with a model-based safety check, 1 without). */
  llm_calls_per_msg: number | null;
  telegram_wait_p99_ms: number | null;
  /** Messages that needed more than one webhook POST. */
  redelivered: number;
}

/**
 * The numbers of one step. `loadStart`/`loadEnd` bound the sending (epoch ms); throughput counts
 * first replies in [loadStart + d, loadEnd + d] with d the median end-to-end time, so that a
 * system that keeps up shows its offered rate and one that falls behind shows what it served.
 */
export function stepNumbers(outcomes: readonly MessageOutcome[], loadStart: number, loadEnd: number): StepNumbers {
  const answered = outcomes.filter((o) => o.firstReplyAt !== null);
  const e2e = answered.map((o) => o.e2eMs!);
  const overhead = answered.filter((o) => o.overheadMs !== null).map((o) => o.overheadMs!);
  const llm = answered.filter((o) => o.llmMs !== null).map((o) => o.llmMs!);
  const d = percentile(e2e, 50) ?? 0;
  const inWindow = answered.filter((o) => o.firstReplyAt! >= loadStart + d && o.firstReplyAt! <= loadEnd + d).length;
  const waits = outcomes.filter((o) => o.telegramWaitMs !== null).map((o) => o.telegramWaitMs!);
  const r = (v: number | null) => round(v);
  return {
    messages: outcomes.length,
    answered: answered.length,
    lost: outcomes.length - answered.length,
    duplicates: outcomes.filter((o) => o.replies > 1).length,
    wrong_chat: outcomes.reduce((n, o) => n + o.wrongChat, 0),
    inexact: answered.filter((o) => !o.exact).length,
    coalesced: answered.filter((o) => o.coalesced).length,
    throughput_msg_s: round(inWindow / Math.max(0.001, (loadEnd - loadStart) / 1000)) ?? 0,
    e2e_p50_ms: r(percentile(e2e, 50)),
    e2e_p95_ms: r(percentile(e2e, 95)),
    e2e_p99_ms: r(percentile(e2e, 99)),
    e2e_max_ms: r(percentile(e2e, 100)),
    overhead_p50_ms: r(percentile(overhead, 50)),
    overhead_p95_ms: r(percentile(overhead, 95)),
    overhead_p99_ms: r(percentile(overhead, 99)),
    overhead_max_ms: r(percentile(overhead, 100)),
    llm_p50_ms: r(percentile(llm, 50)),
    llm_p99_ms: r(percentile(llm, 99)),
    overhead_unknown: answered.length - overhead.length,
    llm_calls_per_msg: answered.length ? round(answered.reduce((n, o) => n + o.llmCalls, 0) / answered.length) : null,
    telegram_wait_p99_ms: r(percentile(waits, 99)),
    redelivered: outcomes.filter((o) => o.attempts > 1).length,
  };
}
