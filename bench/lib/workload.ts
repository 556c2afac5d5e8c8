/**
 * The load: people in sessions of a few messages with think time between them, arriving open loop
 * (the schedule is fixed in advance and does not slow down when replies do).
 *
 * Sessions start as a Poisson process at rate / sessionMessages per second, so the offered message
 * rate is `rate` on average. Sessions are started from (sessionMessages − 1) × thinkMax seconds before
 * the step, and only their messages inside the step are sent: the step begins in a steady state
 * instead of ramping up while the first sessions get going.
 */
import { createRng } from '@inner-talk/mocks';

export interface WorkloadSpec {
  /** Offered messages per second. */
  rate: number;
  durationS: number;
  sessionMessages: number;
  /** Think time between two messages of a session, uniform in [thinkMinS, thinkMaxS]. */
  thinkMinS: number;
  thinkMaxS: number;
  seed: number;
}

/** One message to send: `atMs` after the step start, by the `user`-th person of the step. */
export interface ScheduledMessage {
  atMs: number;
  user: number;
  /** 1-based position in the person's session. */
  seq: number;
}

export interface Schedule {
  messages: ScheduledMessage[];
  /** People with at least one message in the step (indexes 0..users-1). */
  users: number;
}

/** Builds the schedule. Deterministic for a given spec (seeded). */
export function sessionSchedule(spec: WorkloadSpec): Schedule {
  const rng = createRng(spec.seed);
  const durationMs = spec.durationS * 1000;
  const sessionRate = spec.rate / spec.sessionMessages; // per second
  const lead = (spec.sessionMessages - 1) * spec.thinkMaxS * 1000;
  const think = () => (spec.thinkMinS + (spec.thinkMaxS - spec.thinkMinS) * rng()) * 1000;
  const raw: Array<{ atMs: number; session: number; seq: number }> = [];
  let t = -lead;
  let session = 0;
  for (;;) {
    t += (-Math.log(1 - rng()) / sessionRate) * 1000; // exponential gaps: Poisson arrivals
    if (t >= durationMs) break;
    let at = t;
    for (let seq = 1; seq <= spec.sessionMessages; seq++) {
      if (seq > 1) at += think();
      if (at >= durationMs) break;
      if (at >= 0) raw.push({ atMs: at, session, seq });
    }
    session += 1;
  }
  // Number the people in order of their first message in the step.
  raw.sort((a, b) => a.atMs - b.atMs);
  const userOf = new Map<number, number>();
  const messages = raw.map((m) => {
    let user = userOf.get(m.session);
    if (user === undefined) {
      user = userOf.size;
      userOf.set(m.session, user);
    }
    return { atMs: Math.round(m.atMs), user, seq: m.seq };
  });
  return { messages, users: userOf.size };
}

// Real-shaped texts, Russian first (the product's first language), some English. Each message gets
// a unique token in front, so the reply (the mock quotes the first 200 characters) names it.
const PHRASES = [
  'Не могу уснуть, всё время прокручиваю в голове разговор с начальником',
  'Сегодня было чуть легче, но к вечеру снова накрыла тревога',
  'Как перестать винить себя за каждую ошибку?',
  'Мне кажется, что я всех подвожу',
  'Спасибо, это помогло. А что делать, если мысли возвращаются?',
  'Я опять поссорилась с мамой и не знаю, как помириться',
  'На работе завал, и я ничего не успеваю',
  'Иногда хочется просто никого не видеть',
  'I keep overthinking everything I said at the meeting today',
  'How do I calm down before an exam?',
  'I feel lonely since I moved to a new city',
  'Thanks. What could I try tonight when the worry starts again?',
];

/** The text of a message: `[<token>] <phrase>`. Tokens must be unique within a run. */
export function messageText(token: string, index: number): string {
  return `[${token}] ${PHRASES[index % PHRASES.length]}`;
}

/** All tokens quoted in a text (a coalesced turn quotes several). */
export function tokensIn(text: string): string[] {
  return [...text.matchAll(/\[([a-z]+\d+\.\d+)\]/g)].map((m) => m[1]!);
}

/** Telegram-like identity of a virtual person; the private chat id equals the user id. */
export interface VirtualUser {
  id: number;
  firstName: string;
  languageCode: 'ru' | 'en';
}

export function virtualUser(id: number): VirtualUser {
  return { id, firstName: `Bench ${id}`, languageCode: id % 3 === 2 ? 'en' : 'ru' };
}

/** A message update as Telegram sends it to a webhook (private chat, plain text). */
export function textUpdate(updateId: number, messageId: number, user: VirtualUser, text: string, nowMs: number): { update_id: number; message: Record<string, unknown> } {
  return {
    update_id: updateId,
    message: {
      message_id: messageId,
      from: { id: user.id, is_bot: false, first_name: user.firstName, language_code: user.languageCode },
      chat: { id: user.id, first_name: user.firstName, type: 'private' },
      date: Math.floor(nowMs / 1000),
      text,
    },
  };
}
