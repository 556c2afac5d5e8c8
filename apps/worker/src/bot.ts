import { Bot, InputFile, type Context, type Transformer } from 'grammy';
import type { InlineKeyboardMarkup, UserFromGetMe } from 'grammy/types';
import { autoRetry } from '@grammyjs/auto-retry';
import { localeFromLanguageCode, MAX_ACTION_BYTES, TEXTS, TurnDeferredError, type Conversation, type Incoming, type Reply } from '@inner-talk/conversation';
import { AllProvidersUnavailableError } from '@inner-talk/gateway';
import { splitMessage } from '@inner-talk/telegram';
import { METRICS, type MetricsRecorder, type Logger } from '@inner-talk/telemetry';
import { commandOf, writtenText } from './message-text';
import { privateChatsOnly } from './private-only';

export interface WorkerBotOptions {
  token: string;
  apiRoot: string;
  botInfo: UserFromGetMe;
  conversation: Conversation;
  logger: Logger;
  /**
   * True the first time it is called for an update and kind (cluster-wide): the gate that sends each
   * interim notice once per update however often its turn waits. `wait` is "I need a moment";
   * `unchecked` is the crisis contacts sent when the crisis check could not run, which also takes
   * the `wait` claim (that note already says an answer will follow).
   */
  claimNotice(updateId: number, kind: 'wait' | 'unchecked'): Promise<boolean>;
  /** Where the duration of every Bot API call goes (innertalk_telegram_api_seconds); none in unit tests. */
  metrics?: MetricsRecorder;
  /** Installed right above the HTTP call, below auto-retry: they see every attempt (flood control). */
  attemptTransformers?: Transformer[];
}

/**
 * Times every Bot API HTTP call and records it by method and outcome: `ok`, `error_<code>` (Telegram
 * answered ok: false, e.g. error_429) or `network` (no answer). Installed below auto-retry, so each
 * attempt is one observation. Metrics never fail or slow a call: the write is not awaited.
 */
function timeApiCalls(metrics: MetricsRecorder): Transformer {
  return async (prev, method, payload, signal) => {
    const startedAt = performance.now();
    let outcome = 'network';
    try {
      const response = await prev(method, payload, signal);
      outcome = response.ok ? 'ok' : `error_${response.error_code}`;
      return response;
    } finally {
      metrics
        .record([{ spec: METRICS.telegramApiLatency, labels: { method, outcome }, valueMs: performance.now() - startedAt }])
        .catch(() => undefined);
    }
  };
}

/** What handling one update did; read by the job processor for metrics. */
export interface UpdateReport {
  repliesSent: number;
  waitNoticeSent: boolean;
}

/**
 * The Telegram adapter of the worker: a grammY bot that never polls (updates arrive through the
 * queue and `handleUpdate`), translates Telegram updates into the conversation's terms and sends
 * the replies. `reports` maps update_id → what was done, for the processor.
 */
export function createWorkerBot(options: WorkerBotOptions): { bot: Bot; reports: Map<number, UpdateReport> } {
  const bot = new Bot(options.token, { botInfo: options.botInfo, client: { apiRoot: options.apiRoot } });
  // Installed first, so it sits below auto-retry and times each attempt.
  if (options.metrics) bot.api.config.use(timeApiCalls(options.metrics));
  for (const transformer of options.attemptTransformers ?? []) bot.api.config.use(transformer);
  // Capped: the plugin's defaults retry forever. A job holds a concurrency slot while it waits.
  bot.api.config.use(autoRetry({ maxRetryAttempts: 3, maxDelaySeconds: 30 }));
  const reports = new Map<number, UpdateReport>();

  /**
   * The one place that sends an update's messages to Telegram, in order: each reply's text split
   * under Telegram's length limit, its buttons (an inline keyboard) under the last part. `kind`
   * `notice` marks interim messages (not counted as replies).
   */
  const deliver = async (ctx: Context, chatId: number, replies: readonly Reply[], kind: 'reply' | 'notice' = 'reply') => {
    const report = reports.get(ctx.update.update_id);
    for (const reply of replies) {
      if (reply.file) {
        // A file goes as a document with the text as its caption (Telegram allows 1024 characters).
        const document = new InputFile(Buffer.from(reply.file.content, 'utf8'), reply.file.name);
        await ctx.api.sendDocument(chatId, document, { caption: reply.text.slice(0, 1024) });
        if (report && kind === 'reply') report.repliesSent += 1;
        continue;
      }
      const parts = splitMessage(reply.text);
      for (const [i, part] of parts.entries()) {
        const keyboard = i === parts.length - 1 ? inlineKeyboard(reply) : undefined;
        await ctx.api.sendMessage(chatId, part, keyboard ? { reply_markup: keyboard } : undefined);
        if (report && kind === 'reply') report.repliesSent += 1;
      }
      if (report && kind === 'notice') report.waitNoticeSent = true;
    }
  };

  const respond = async (ctx: Context, chatId: number, incoming: Incoming) => {
    // "typing…" is a courtesy: never wait for it and never fail the turn on it.
    if (incoming.kind === 'text') ctx.api.sendChatAction(chatId, 'typing').catch(() => undefined);
    let replies;
    try {
      replies = await options.conversation.handle(incoming);
    } catch (error) {
      const updateId = ctx.update.update_id;
      if (error instanceof TurnDeferredError) {
        // The turn waits, but the person hears something now. The crisis reply sent while storage is
        // down is the turn's first reply (counted, so the re-run skips it); the contacts sent when
        // the crisis check could not run are a notice, once per update.
        if (error.reason === 'storage_unavailable') await deliver(ctx, chatId, error.interim);
        else if (await options.claimNotice(updateId, 'unchecked')) await deliver(ctx, chatId, error.interim, 'notice');
      } else if (error instanceof AllProvidersUnavailableError && (await options.claimNotice(updateId, 'wait'))) {
        // The message was checked, but every provider is down or cooling down: the job will be
        // delayed until one is back. Tell the person once, so the silence is not read as being
        // ignored; the real reply follows.
        await deliver(ctx, chatId, [{ text: TEXTS[incoming.locale].needAMoment }], 'notice');
      }
      throw error;
    }
    await deliver(ctx, chatId, replies);
  };

  const personOf = (ctx: Context) => {
    const from = ctx.from;
    if (!from) return null;
    return { userId: `tg:${from.id}`, locale: localeFromLanguageCode(from.language_code), turnKey: `u${ctx.update.update_id}` };
  };

  // Groups, channels and shared senders never get further (see privateChatsOnly).
  bot.use(privateChatsOnly());

  // A caption is the person's words about a photo, video or document: read it as their text.
  bot.on(['message:text', 'message:caption'], async (ctx) => {
    const person = personOf(ctx);
    const text = writtenText(ctx.message);
    if (!person || text === undefined) return;
    const name = commandOf(ctx.message);
    const args = name === null ? '' : text.slice(ctx.message.entities?.[0]?.length ?? 0).trim();
    await respond(ctx, ctx.chat.id, name === null ? { kind: 'text', ...person, text } : { kind: 'command', ...person, name, args });
  });

  // An edit is checked for crisis risk only; the core answers nothing else to it.
  bot.on('edited_message', async (ctx) => {
    const person = personOf(ctx);
    const text = writtenText(ctx.editedMessage);
    if (person && text !== undefined) await respond(ctx, ctx.chat.id, { kind: 'edit', ...person, text });
  });

  bot.on('message', async (ctx) => {
    const person = personOf(ctx);
    if (person) await respond(ctx, ctx.chat.id, { kind: 'unsupported', ...person });
  });

  bot.on('callback_query', async (ctx) => {
    // Every callback query is answered, stale, foreign or malformed ones too: until it is, the
    // person's Telegram shows a spinner on the button. A failure (e.g. too old on a retry) is harmless.
    await ctx.answerCallbackQuery().catch(() => undefined);
    const person = personOf(ctx);
    const action = ctx.callbackQuery.data;
    // In a private chat the chat id is the person's id; the message may be too old to be included.
    const chatId = ctx.chat?.id ?? ctx.from.id;
    if (!person || action === undefined) return;
    // Buttons are single-use: take them off the pressed message before answering, so that by the
    // time the answer arrives the question cannot be pressed again. Cosmetic (the core ignores stale
    // presses), so a failure is ignored.
    const pressed = ctx.callbackQuery.message;
    if (pressed) await ctx.api.editMessageReplyMarkup(pressed.chat.id, pressed.message_id, { reply_markup: { inline_keyboard: [] } }).catch(() => undefined);
    await respond(ctx, chatId, { kind: 'choice', ...person, action });
  });

  return { bot, reports };
}

/** A reply's buttons as a Telegram inline keyboard; an action that does not fit callback_data is a bug. */
function inlineKeyboard(reply: Reply): InlineKeyboardMarkup | undefined {
  if (!reply.buttons?.length) return undefined;
  return {
    inline_keyboard: reply.buttons.map((row) =>
      row.map((button) => {
        if (Buffer.byteLength(button.action, 'utf8') > MAX_ACTION_BYTES) throw new RangeError(`button action longer than ${MAX_ACTION_BYTES} bytes`);
        return { text: button.label, callback_data: button.action };
      }),
    ),
  };
}
